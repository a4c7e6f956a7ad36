// The views as a person uses them: the matrix of all heads from the default corpus (with no
// request leaving the page's origin), flying into a head, clicking a query point to read
// its sentence's attention, weighing it by what attention moves (‖α·f(x)‖) instead, stepping
// to the next head with the selection kept, searching, switching projection, colours (value
// norms too) and dimensions, and hostile token text staying text.
import { describe, expect, inject, it } from 'vitest';
import type { Page } from 'playwright-core';
import { browserForFile } from './browser';
import { type PixelCounts, canvasPixels, canvasPoint, difference, findQueryDot, matrixCells, settled } from './canvas';
import { goToHead, openApp, pasteCorpus, projectionStatus, runToEnd, useDefaultCorpus } from './helpers';
import { defaultSentences } from '../helpers/extraction';

const baseURL = inject('baseURL');
const browser = browserForFile();
const HOSTILE = 'The <img src=x onerror=alert(1)> token must stay text.';
const SENTENCES = [...defaultSentences().slice(0, 14), HOSTILE];

const status = projectionStatus;

describe('views', () => {
  it('draws every head of the default corpus in the matrix with a couple of draw calls, and requests nothing from elsewhere', async () => {
    const { page, errors, requests } = browser();
    await openApp(page, baseURL, '?device=wasm');
    await useDefaultCorpus(page);
    await runToEnd(page);
    await expect.poll(() => status(page), { timeout: 60_000 }).toMatch(/PCA 72\/72 heads/);
    const matrix = page.getByTestId('matrix-view');
    await settled(page);

    const cells = await matrixCells(page, 6, 12);
    const pixels = await canvasPixels(
      page,
      cells.map((c) => c.rect),
    );
    cells.forEach((cell, i) => {
      expect(pixels[i].query, `${cell.label} query pixels`).toBeGreaterThan(10);
      expect(pixels[i].key, `${cell.label} key pixels`).toBeGreaterThan(10);
    });
    const drawCalls = Number(await matrix.getAttribute('data-draw-calls'));
    expect(drawCalls).toBeGreaterThanOrEqual(1);
    expect(drawCalls).toBeLessThanOrEqual(3);

    // Orbiting redraws the scene without sending any buffer to the GPU again.
    const frames = Number(await matrix.getAttribute('data-frames'));
    const uploads = Number(await matrix.getAttribute('data-uploads'));
    const box = (await matrix.boundingBox())!;
    // Level of detail: while the camera moves, a sample of every head is drawn; at rest, every point.
    const total = Number(await matrix.getAttribute('data-total-points'));
    expect(total).toBe(72 * 2 * 5203);
    const drawnWhileMoving: number[] = [];
    await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
    await page.mouse.down();
    for (let i = 1; i <= 10; i++) {
      await page.mouse.move(box.x + box.width / 2 + i * 15, box.y + box.height / 2 + i * 5);
      drawnWhileMoving.push(Number(await matrix.getAttribute('data-drawn-points')));
    }
    await page.mouse.up();
    await expect.poll(async () => Number(await matrix.getAttribute('data-frames'))).toBeGreaterThan(frames + 3);
    expect(Number(await matrix.getAttribute('data-uploads'))).toBe(uploads);
    expect(Number(await matrix.getAttribute('data-draw-calls'))).toBeLessThanOrEqual(3);
    console.log(
      `[qkviz] points drawn while orbiting: ${Math.min(...drawnWhileMoving.slice(2)).toLocaleString('en-US')} of ${total.toLocaleString('en-US')}; frame ${await matrix.getAttribute('data-frame-ms')} ms`,
    );
    expect(Math.max(...drawnWhileMoving.slice(2))).toBeLessThan(total);
    await expect.poll(async () => Number(await matrix.getAttribute('data-drawn-points')), { timeout: 10_000 }).toBe(total);
    await page.screenshot({ path: 'test-results/views-matrix-orbited.png' });

    // A search's matches are drawn in every cell whatever the budget: a frame taken while the
    // camera moves shows as many of them as the still frame drawn at the same camera after it.
    await page.getByLabel('Search tokens').fill('the');
    await expect.poll(() => page.getByTestId('search-results').textContent()).toMatch(/^\d+ results$/);
    const matches = Number((await page.getByTestId('search-results').textContent())!.split(' ')[0]);
    await settled(page);
    expect(Number(await matrix.getAttribute('data-always-drawn'))).toBe(72 * matches);
    let moving: PixelCounts | null = null;
    for (let attempt = 0; attempt < 6 && !moving; attempt++) {
      await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
      await page.mouse.down();
      for (let i = 1; i <= 4; i++) await page.mouse.move(box.x + box.width / 2 - i * 10, box.y + box.height / 2 + i * 4);
      const [shot] = await canvasPixels(page);
      if (shot.drawnPoints < total) moving = shot;
      await page.mouse.up();
    }
    expect(moving, 'a frame drawn while the camera moved').not.toBeNull();
    await expect.poll(async () => Number(await matrix.getAttribute('data-drawn-points')), { timeout: 10_000 }).toBeGreaterThanOrEqual(total);
    await settled(page);
    const [still] = await canvasPixels(page);
    console.log(
      `[qkviz] search matches (${matches} a head) while moving: ${moving!.query + moving!.key} px of ${still.query + still.key} px at rest; ${moving!.drawnPoints.toLocaleString('en-US')} points drawn`,
    );
    expect(moving!.query + moving!.key).toBeGreaterThan(0.9 * (still.query + still.key));
    await page.getByLabel('Search tokens').fill('');
    await expect.poll(async () => Number(await matrix.getAttribute('data-always-drawn'))).toBe(0);

    // Reset brings the overview back; hovering a head names it.
    await page.getByRole('button', { name: 'Reset view' }).click();
    await settled(page);
    const target = (await matrixCells(page, 6, 12)).find((c) => c.label === 'L2 H3')!;
    const at = await canvasPoint(page, target.centre);
    await page.mouse.move(at.x, at.y);
    await expect.poll(() => page.getByRole('tooltip').textContent()).toContain('L2 H3');
    // Clicking it flies in.
    await page.mouse.click(at.x, at.y);
    await expect.poll(() => page.getByTestId('head-title').textContent()).toBe('Head L2 H3');
    expect(await matrix.getAttribute('data-view')).toBe('head');
    // The head view draws its head in full.
    await expect.poll(async () => Number(await matrix.getAttribute('data-drawn-points'))).toBe(2 * 5203);

    const foreign = requests.filter((url) => !url.startsWith(baseURL) && !url.startsWith('data:') && !url.startsWith('blob:'));
    expect(requests.length).toBeGreaterThan(10);
    expect(foreign).toEqual([]);
    expect(errors).toEqual([]);
  });

  it('flies into a head, draws a clicked sentence’s links and sentence view, keeps them on the next head, searches, and keeps token text as text', async () => {
    const { page, errors } = browser();
    const dialogs: string[] = [];
    page.on('dialog', (d) => {
      dialogs.push(d.message());
      void d.dismiss();
    });
    await openApp(page, baseURL, '?device=wasm');
    await pasteCorpus(page, SENTENCES.join('\n'));
    await runToEnd(page);
    await expect.poll(() => status(page), { timeout: 60_000 }).toMatch(/PCA 72\/72 heads/);
    const matrix = page.getByTestId('matrix-view');
    // The run's cache write (a structured clone on the main thread, once the canvas rests)
    // holds frames back while it runs; the pixel checks below read settled frames after it.
    await page.getByText('This run is saved to the cache once its PCA matrix is drawn.').waitFor({ state: 'detached', timeout: 120_000 });

    await goToHead(page, 2, 3);
    // The head's details give the share of what it moves from [CLS]/[SEP] beside the attention share.
    await expect.poll(() => page.getByTestId('head-value-share').textContent()).toMatch(/^\d+\.\d%$/);
    await settled(page);
    let [whole] = await canvasPixels(page);
    expect(whole.query).toBeGreaterThan(200);
    expect(whole.key).toBeGreaterThan(200);
    expect(whole.link).toBe(0);

    // Click a query point: its sentence is highlighted and its links drawn.
    const dot = (await findQueryDot(page))!;
    await page.mouse.click(...(Object.values(await canvasPoint(page, dot)) as [number, number]));
    const selection = page.getByTestId('selection');
    await selection.waitFor();
    expect(await selection.textContent()).toMatch(/\(query\), sentence \d+/);
    const title = (await page.locator('.sentence-title').textContent())!;
    expect(SENTENCES).toContain(title);
    const tokens = await page.getByTestId('sentence-query').allTextContents();
    expect(tokens[0]).toBe('[CLS]');
    expect(tokens.at(-1)).toBe('[SEP]');
    const joined = tokens.join(' ').toLowerCase();
    for (const word of title.toLowerCase().match(/[a-z]+/g)!) expect(joined).toContain(word.slice(0, 3));
    await settled(page);
    [whole] = await canvasPixels(page);
    expect(whole.link).toBeGreaterThan(20);
    await page.screenshot({ path: 'test-results/views-head-links.png' });

    // Hiding [CLS]/[SEP] drops them from the sentence view.
    await page.getByLabel('Hide [CLS]/[SEP] and renormalise').check();
    expect(await page.getByTestId('sentence-query').allTextContents()).toEqual(tokens.slice(1, -1));
    await page.getByLabel('Hide [CLS]/[SEP] and renormalise').uncheck();

    // Weigh by what attention moves: the legend and the count say so, the lines change, the links stay drawn.
    const opacities = () =>
      page
        .locator('.sentence-view line')
        .evaluateAll((ls) => ls.map((l) => `${l.getAttribute('x2')},${l.getAttribute('y2')},${l.getAttribute('stroke-opacity')}`));
    expect(await page.getByTestId('sentence-weight').textContent()).toBe('lines: attention α_ij');
    expect(await selection.textContent()).toMatch(/\d+ links by attention α/);
    const byAttention = await opacities();
    await page.getByRole('radio', { name: '‖α·f(x)‖' }).check();
    await expect.poll(() => page.getByTestId('sentence-weight').textContent()).toBe('lines: α_ij·‖f(x_j)‖, share of the row');
    await expect.poll(() => selection.textContent()).toMatch(/\d+ links by ‖α·f\(x\)‖ share/);
    await expect.poll(async () => (await opacities()).join(';')).not.toBe(byAttention.join(';'));
    await expect.poll(async () => (await canvasPixels(page))[0].link).toBeGreaterThan(20);
    await page.screenshot({ path: 'test-results/views-head-value-links.png' });
    await page.getByRole('radiogroup', { name: 'Weigh links by' }).getByRole('radio', { name: 'Attention' }).check();
    // The head's value cloud places the selected sentence's tokens, by PCA of their values.
    await expect.poll(() => page.getByTestId('value-cloud-token').count()).toBe(tokens.length);
    expect(await page.getByTestId('value-cloud-caption').textContent()).toMatch(/PCA of the values v \(head size 32\): \d+% \+ \d+% of their variance/);
    expect(await page.getByTestId('value-cloud-token').allTextContents()).toEqual(tokens);
    await page.getByRole('region', { name: 'Value cloud' }).screenshot({ path: 'test-results/views-value-cloud.png' });
    await expect.poll(() => page.getByTestId('sentence-weight').textContent()).toBe('lines: attention α_ij');

    // Next head: same selection, links redrawn for that head.
    const selected = (await selection.locator('p').first().textContent())!.split(' · ')[0];
    await page.getByRole('button', { name: 'Next head' }).click();
    await expect.poll(() => page.getByTestId('head-title').textContent()).toBe('Head L2 H4');
    expect((await selection.locator('p').first().textContent())!.split(' · ')[0]).toBe(selected);
    // The next head's links are read from the run's store: drawn once they arrive.
    await expect.poll(async () => (await canvasPixels(page))[0].link).toBeGreaterThan(20);
    // Arrow keys step too, wherever the keyboard is (here: on the button just clicked).
    await page.keyboard.press('ArrowDown');
    await expect.poll(() => page.getByTestId('head-title').textContent()).toBe('Head L3 H4');
    expect((await selection.locator('p').first().textContent())!.split(' · ')[0]).toBe(selected);

    // Search: one result per "the" token, as a query and as a key.
    await page.getByRole('button', { name: 'Clear selection' }).click();
    await settled(page);
    expect((await canvasPixels(page))[0].link).toBe(0);
    await page.getByLabel('Search tokens').fill('the');
    const thes = SENTENCES.reduce((n, s) => n + (s.match(/\bthe\b/gi)?.length ?? 0), 0);
    await expect.poll(() => page.getByTestId('search-results').textContent()).toBe(`${2 * thes} results`);

    // Hostile text: search it, hover and click its query point; it shows as text and runs nothing.
    await page.getByLabel('Search tokens').fill('alert');
    await expect.poll(() => page.getByTestId('search-results').textContent()).toBe('2 results');
    await settled(page);
    const hostile = (await findQueryDot(page))!;
    const at = await canvasPoint(page, hostile);
    await page.mouse.move(at.x, at.y);
    await expect.poll(() => page.getByRole('tooltip').textContent()).toContain('alert · query');
    expect(await page.getByRole('tooltip').textContent()).toContain(HOSTILE);
    // Query or key is said once (the colour line adds nothing when colouring by query/key).
    expect((await page.getByRole('tooltip').textContent())!.match(/query/g)).toHaveLength(1);
    await page.mouse.click(at.x, at.y);
    await expect.poll(() => page.locator('.sentence-title').textContent()).toBe(HOSTILE);
    await expect.poll(() => page.locator('.token-labels').textContent()).toContain('alert');
    expect(await page.locator('img[src="x"]').count()).toBe(0);
    expect(dialogs).toEqual([]);
    expect(errors).toEqual([]);
  });

  it('switches PCA ↔ UMAP, colour modes and 2D/3D in the head view, and picking works in 2D', async () => {
    const { page, errors } = browser();
    await openApp(page, baseURL, '?device=wasm');
    await pasteCorpus(page, SENTENCES.join('\n'));
    await runToEnd(page);
    await expect.poll(() => status(page), { timeout: 60_000 }).toMatch(/PCA 72\/72 heads/);
    await goToHead(page, 1, 5);
    await settled(page);
    const [pca] = await canvasPixels(page);

    await page.getByRole('radio', { name: 'UMAP' }).check();
    await page.getByText('The UMAP layout of L1 H5 is being computed').waitFor({ state: 'detached', timeout: 60_000 });
    await settled(page);
    const [umap] = await canvasPixels(page);
    expect(umap.query).toBeGreaterThan(100);
    expect(umap.key).toBeGreaterThan(100);
    expect(difference(umap.signature, pca.signature)).toBeGreaterThan(0.01);

    await page.getByLabel('Colour by').selectOption({ label: 'Position in sentence' });
    await settled(page);
    const [position] = await canvasPixels(page);
    expect(difference(position.signature, umap.signature)).toBeGreaterThan(0.01);
    await page.getByRole('radio', { name: 'Colour-blind' }).check();
    await settled(page);
    expect(difference((await canvasPixels(page))[0].signature, position.signature)).toBeGreaterThan(0.01);
    await page.getByRole('radio', { name: 'Reference' }).check();
    // Each token's value norm in this head: a ramp of its own, named in the legend.
    await page.getByLabel('Colour by').selectOption({ label: 'Value norm ‖f(x)‖' });
    await page
      .getByText(/Value norm ‖f\(x\)‖ = ‖v·W_O‖/)
      .first()
      .waitFor();
    // Once every head's value norms are read from the run's store: neither the position ramp nor plain query/key colours.
    await expect
      .poll(
        async () => {
          const [shot] = await canvasPixels(page);
          return Math.min(difference(shot.signature, position.signature), difference(shot.signature, umap.signature));
        },
        { timeout: 30_000 },
      )
      .toBeGreaterThan(0.01);
    await page.getByLabel('Colour by').selectOption('kind');

    await page.getByRole('radio', { name: 'PCA' }).check();
    await page.getByRole('radio', { name: '2D' }).check();
    await expect.poll(() => status(page), { timeout: 60_000 }).toMatch(/PCA 72\/72 heads/);
    await settled(page);
    const [flat] = await canvasPixels(page);
    expect(flat.query).toBeGreaterThan(100);
    expect(flat.key).toBeGreaterThan(100);
    expect(difference(flat.signature, pca.signature)).toBeGreaterThan(0.01);
    const dot = (await findQueryDot(page))!;
    const at = await canvasPoint(page, dot);
    await page.mouse.click(at.x, at.y);
    await expect.poll(() => page.getByTestId('selection').textContent()).toContain('(query)');
    await settled(page);
    expect((await canvasPixels(page))[0].link).toBeGreaterThan(20);
    await page.screenshot({ path: 'test-results/views-head-2d.png' });
    expect(errors).toEqual([]);
  });
});
