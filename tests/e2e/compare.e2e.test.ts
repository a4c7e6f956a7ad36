// Compare mode, diagnostics, overlay, export and shared links, as a person uses them: two
// linked panes share one selection (links in both), one camera (moving one moves the
// other); the diagnostics panel and the overlay show the head's figures; the exports
// download real files; and a shared link reopens the same head, vectors and projection.
import { readFileSync } from 'node:fs';
import { describe, expect, inject, it } from 'vitest';
import type { Page } from 'playwright-core';
import { browserForFile } from './browser';
import { canvasPixels, canvasPoint, difference, findQueryDot, settled } from './canvas';
import { goToHead, openApp, openExportMenu, pasteCorpus, projectionStatus, runToEnd } from './helpers';
import { defaultSentences } from '../helpers/extraction';

const baseURL = inject('baseURL');
const browser = browserForFile();
const CORPUS = defaultSentences().slice(20, 34).join('\n');

const status = projectionStatus;
const pixels = async (page: Page, view: string) => (await canvasPixels(page, undefined, view))[0];

describe('compare, diagnostics and export', () => {
  it('links selection and camera across PCA | UMAP panes and shows the head’s diagnostics', async () => {
    const { page, errors } = browser();
    await openApp(page, baseURL, '?device=wasm');
    await pasteCorpus(page, CORPUS);
    await runToEnd(page);
    await expect.poll(() => status(page), { timeout: 60_000 }).toMatch(/PCA 72\/72 heads/);

    // Overlay: the matrix cells get a background, one more draw call, a legend with a visible scale.
    await settled(page);
    const plain = await pixels(page, 'matrix-view');
    await page.getByLabel('Cell colour').selectOption('entropy');
    await settled(page);
    expect(difference((await pixels(page, 'matrix-view')).signature, plain.signature)).toBeGreaterThan(0.05);
    expect(await page.getByLabel('Cell colour legend').textContent()).toContain('Attention entropy');
    const bar = (await page.getByLabel('Cell colour legend').locator('.ramp').boundingBox())!;
    expect(bar.height).toBeGreaterThanOrEqual(8);
    expect(bar.width).toBeGreaterThan(100);
    expect(Number(await page.getByTestId('matrix-view').getAttribute('data-draw-calls'))).toBeLessThanOrEqual(3);

    await page.getByLabel('Compare').selectOption('projection');
    await goToHead(page, 2, 6);
    await page.getByText(/layout of L2 H6 is being computed/).waitFor({ state: 'detached', timeout: 60_000 });
    const left = 'matrix-view';
    const right = 'matrix-view-2';
    await settled(page, left);
    await settled(page, right);
    expect((await pixels(page, left)).link).toBe(0);
    expect((await pixels(page, right)).link).toBe(0);
    const before = await pixels(page, right);

    // Click a query in the left (PCA) pane: both panes highlight the sentence and draw its links.
    const dot = (await findQueryDot(page, left))!;
    const at = await canvasPoint(page, dot, left);
    await page.mouse.click(at.x, at.y);
    await page.getByTestId('selection').waitFor();
    await settled(page, right);
    const [l1, r1] = [await pixels(page, left), await pixels(page, right)];
    expect(l1.link).toBeGreaterThan(20);
    expect(r1.link).toBeGreaterThan(20);
    // The rest faded in both: far fewer full-colour points than before the click.
    expect(r1.query + r1.key).toBeLessThan((before.query + before.key) / 2);
    await page.screenshot({ path: 'test-results/compare-links.png' });

    // Clicking a query in the right pane selects there; both panes follow.
    await page.getByRole('button', { name: 'Clear selection' }).click();
    await settled(page, left);
    expect((await pixels(page, left)).link).toBe(0);
    const dot2 = (await findQueryDot(page, right))!;
    const at2 = await canvasPoint(page, dot2, right);
    await page.mouse.click(at2.x, at2.y);
    await page.getByTestId('selection').waitFor();
    await settled(page, left);
    expect((await pixels(page, left)).link).toBeGreaterThan(20);
    expect((await pixels(page, right)).link).toBeGreaterThan(20);

    // One camera: dragging the left pane turns the right one too.
    const still = (await pixels(page, right)).signature;
    const box = (await page.getByTestId(left).boundingBox())!;
    await page.mouse.move(box.x + 40, box.y + box.height / 2);
    await page.mouse.down();
    for (let i = 1; i <= 8; i++) await page.mouse.move(box.x + 40 + i * 12, box.y + box.height / 2 - i * 4);
    await page.mouse.up();
    await settled(page, right);
    expect(difference((await pixels(page, right)).signature, still)).toBeGreaterThan(0.01);

    // Raw | normalized (paper): the raw pane gets its own layouts; the selection carries over.
    await page.getByRole('radio', { name: 'Paper' }).check();
    await page.getByLabel('Compare').selectOption('normalization');
    await expect.poll(() => status(page), { timeout: 60_000 }).toMatch(/raw vectors: PCA 72\/72/);
    await page.getByText(/layout of L2 H6 is being computed/).waitFor({ state: 'detached', timeout: 60_000 });
    await settled(page, left);
    await settled(page, right);
    const [raw, paper] = [await pixels(page, left), await pixels(page, right)];
    expect(await page.getByTestId(left).getAttribute('aria-label')).toMatch(/^PCA · Raw/);
    expect(await page.getByTestId(right).getAttribute('aria-label')).toMatch(/^PCA · Paper/);
    expect(raw.link).toBeGreaterThan(20);
    expect(paper.link).toBeGreaterThan(20);
    expect(difference(raw.signature, paper.signature)).toBeGreaterThan(0.01);
    await page.screenshot({ path: 'test-results/compare-normalization.png' });
    await page.getByRole('radio', { name: 'Optimized' }).check();

    // Diagnostics for the head: the figures, the attention check, the scatter's fit.
    const diagnostics = page.getByLabel('Diagnostics');
    expect(await diagnostics.getByRole('heading').textContent()).toContain('L2 H6');
    const check = (await page.getByTestId('head-attention-error').textContent())!;
    expect(Number(check.match(/= ([\d.e+-]+)/)![1])).toBeLessThan(1e-5);
    const fit = (await page.getByTestId('scatter-fit').textContent())!;
    const r = Number(fit.match(/r = (-?[\d.]+)/)![1]);
    // The same figure as the table's seed row for the current (optimized) vectors.
    const seedRow = await diagnostics
      .getByRole('row', { name: /seed corr/ })
      .locator('td')
      .allTextContents();
    expect(r).toBeCloseTo(Number(seedRow[2]), 3);
    expect(errors).toEqual([]);
  });

  it('exports the view, the figures and the coordinates, and a shared link reopens the same head, vectors and projection', async () => {
    const { page, errors } = browser();
    await openApp(page, baseURL, '?device=wasm');
    await pasteCorpus(page, CORPUS);
    await runToEnd(page);
    await expect.poll(() => status(page), { timeout: 60_000 }).toMatch(/PCA 72\/72 heads/);

    await page.getByRole('radio', { name: 'Paper' }).check();
    await page.getByRole('radio', { name: '2D' }).check();
    await expect.poll(() => status(page), { timeout: 60_000 }).toMatch(/PCA 72\/72 heads/);

    const save = async (button: string) => {
      await openExportMenu(page);
      const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: button }).click()]);
      return readFileSync((await download.path())!);
    };
    const csv = (await save('Figures as CSV')).toString('utf8').trim().split('\n');
    expect(csv).toHaveLength(73);
    expect(csv[0]).toMatch(/^layer,head,entropy,special_share,value_special_share,raw_weighted_correlation,/);
    expect(csv[1].startsWith('0,0,')).toBe(true);
    const npy = await save('Coordinates as NPY');
    expect(npy.subarray(1, 6).toString('latin1')).toBe('NUMPY');
    const header = npy.subarray(10, 10 + npy.readUInt16LE(8)).toString('latin1');
    const tokens = Number((await page.getByTestId('summary-size').textContent())!.match(/^(\d+)/)![1]);
    expect(header).toContain(`'shape': (6, 12, ${2 * tokens}, 2)`);
    expect(npy.length).toBe(10 + npy.readUInt16LE(8) + 6 * 12 * 2 * tokens * 2 * 4);
    const png = await save('View as PNG');
    expect(png.subarray(1, 4).toString('latin1')).toBe('PNG');

    await page.getByRole('radio', { name: 'UMAP' }).check();
    await goToHead(page, 1, 4);
    await openExportMenu(page);
    await page.getByRole('button', { name: 'Share link' }).click();
    const link = await page.getByLabel('Link to this view').inputValue();
    expect(link.startsWith(baseURL)).toBe(true);

    // Reopen it: this browser has run that corpus, so the view comes back from the cache at once.
    await page.goto(link);
    await expect.poll(() => page.getByTestId('head-title').textContent(), { timeout: 30_000 }).toBe('Head L1 H4');
    expect(await page.getByTestId('result-source').textContent()).toMatch(/from cache/);
    expect(await page.getByRole('radio', { name: 'Paper' }).isChecked()).toBe(true);
    expect(await page.getByRole('radio', { name: 'UMAP' }).isChecked()).toBe(true);
    expect(await page.getByRole('radio', { name: '2D' }).isChecked()).toBe(true);
    expect(await page.getByTestId('link-corpus-notice').count()).toBe(0);

    // A browser without that corpus: the page says so; run another corpus and the settings
    // still apply, and the page says the corpus differs.
    await page.getByRole('button', { name: 'Clear cache' }).click();
    await page.getByText(/Cache cleared/).waitFor();
    await page.goto(link);
    await page.getByTestId('model-name').waitFor();
    await expect.poll(() => page.getByTestId('link-corpus-notice').textContent()).toMatch(/has not run\. Paste that corpus/);
    await pasteCorpus(page, defaultSentences().slice(0, 5).join('\n'));
    await runToEnd(page);
    await expect.poll(() => page.getByTestId('head-title').textContent(), { timeout: 30_000 }).toBe('Head L1 H4');
    await expect.poll(() => page.getByTestId('link-corpus-notice').textContent()).toMatch(/made with another corpus/);
    expect(errors).toEqual([]);
  });
});
