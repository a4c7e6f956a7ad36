// Projections as a person sees them: after Run, every head's PCA layout appears in its cell
// of the matrix with query-green and key-pink pixels, UMAP layouts stream in (the head a
// person opens first jumps the queue) and look different, 2D works, and reopening the same
// corpus takes the layouts from the browser's cache.
import { describe, expect, inject, it } from 'vitest';
import type { Page } from 'playwright-core';
import { browserForFile } from './browser';
import { canvasPixels, cellPixels, difference } from './canvas';
import { goToHead, openApp, pasteCorpus, projectionStatus, runToEnd } from './helpers';
import { defaultSentences } from '../helpers/extraction';

const baseURL = inject('baseURL');
const browser = browserForFile();
const CORPUS = defaultSentences().slice(0, 25).join('\n');

const status = projectionStatus;

const matrixPixels = (page: Page) => cellPixels(page, 6, 12);

describe('projections', () => {
  it('shows every head’s PCA layout, then UMAP, in 3D and 2D, and reuses them from the cache', async () => {
    const { page, errors } = browser();
    await openApp(page, baseURL, '?device=wasm');
    await pasteCorpus(page, CORPUS);
    await runToEnd(page);
    await expect.poll(() => status(page), { timeout: 60_000 }).toMatch(/PCA 72\/72 heads/);

    const matrix = page.getByTestId('matrix-view');
    await expect.poll(async () => (await canvasPixels(page))[0].key, { timeout: 30_000 }).toBeGreaterThan(2000);
    const pca = await matrixPixels(page);
    for (const cell of pca) {
      expect(cell.query, `${cell.label} query pixels`).toBeGreaterThan(20);
      expect(cell.key, `${cell.label} key pixels`).toBeGreaterThan(20);
    }
    expect(Number(await matrix.getAttribute('data-draw-calls'))).toBeGreaterThanOrEqual(1);
    expect(Number(await matrix.getAttribute('data-draw-calls'))).toBeLessThanOrEqual(3);

    // Opening a head puts its UMAP ahead of the queue: it arrives right after the heads in flight
    // (the status line may lag a head behind, and a worker may take the next head as the click
    // lands), not 60-odd heads later as layer order would have it.
    const umapDone = async () => Number((await status(page))?.match(/UMAP (\d+)\/72/)?.[1]);
    const workers = Number((await status(page))?.match(/(\d+) worker/)?.[1]);
    const before = await umapDone();
    await goToHead(page, 5, 11);
    await page.getByRole('radio', { name: 'UMAP' }).check();
    await page.getByText('The UMAP layout of L5 H11 is being computed').waitFor({ state: 'detached', timeout: 60_000 });
    expect(await umapDone()).toBeLessThanOrEqual(before + 2 * workers + 2);
    expect(before + 2 * workers + 2).toBeLessThan(40);
    await page.getByRole('button', { name: 'Back to matrix' }).click();
    await page.getByRole('radio', { name: 'PCA' }).check();

    await expect.poll(() => status(page), { timeout: 240_000, interval: 1000 }).toMatch(/UMAP 72\/72 heads/);
    // The page says where UMAP ran: the WebAssembly SIMD kernels (Chromium has them).
    expect(await status(page)).toContain('(in WebAssembly SIMD)');
    await page.getByRole('radio', { name: 'UMAP' }).check();
    // The flight back to the matrix has ended once the labels are where they were.
    await expect.poll(async () => (await matrixPixels(page)).filter((c) => c.query > 0 && c.key > 0).length, { timeout: 10_000 }).toBe(72);
    const umap = await matrixPixels(page);
    umap.forEach((cell, i) => {
      expect(difference(cell.signature, pca[i].signature), `${cell.label} UMAP vs PCA`).toBeGreaterThan(0.02);
    });
    await page.screenshot({ path: 'test-results/projections-umap.png', fullPage: true });

    await page.getByRole('radio', { name: 'PCA' }).check();
    await page.getByRole('radio', { name: '2D' }).check();
    await expect.poll(() => status(page), { timeout: 60_000 }).toMatch(/PCA 72\/72 heads/);
    await expect.poll(async () => (await matrixPixels(page)).filter((c) => c.query + c.key > 40).length, { timeout: 10_000 }).toBe(72);
    await page.getByRole('radio', { name: '3D' }).check();
    expect(errors).toEqual([]);

    // Reopened: the run and every 3D layout come from the browser's cache; nothing is recomputed.
    await openApp(page, baseURL, '?device=wasm');
    expect(await page.getByTestId('result-source').textContent()).toMatch(/from cache/);
    await expect.poll(() => status(page), { timeout: 60_000 }).toMatch(/PCA 72\/72 heads .* UMAP 72\/72 heads .*computed: PCA 0, UMAP 0 · 144 from cache/);
  });
});
