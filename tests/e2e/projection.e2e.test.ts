// Projections as a person sees them: after Run, every head's PCA layout appears with
// query-green and key-pink pixels (in the 3D matrix and in each head's picture), UMAP
// layouts stream in and look different, 2D works,
// and reopening the same corpus takes the layouts from the browser's cache.
import { describe, expect, inject, it } from 'vitest';
import type { Page } from 'playwright-core';
import { browserForFile } from './browser';
import { openApp, pasteCorpus, runToEnd } from './helpers';
import { defaultSentences } from '../helpers/extraction';

const baseURL = inject('baseURL');
const browser = browserForFile();
const CORPUS = defaultSentences().slice(0, 25).join('\n');

/** Per head cell: how many pixels are the query colour and the key colour, and the raw pixels. */
async function cellPixels(page: Page): Promise<{ label: string; query: number; key: number; pixels: number[] }[]> {
  return page.$$eval('figure.thumb', (figures) =>
    figures.map((f) => {
      const canvas = f.querySelector('canvas') as HTMLCanvasElement;
      const data = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data;
      let query = 0;
      let key = 0;
      const near = (i: number, r: number, g: number, b: number) => Math.abs(data[i] - r) + Math.abs(data[i + 1] - g) + Math.abs(data[i + 2] - b) < 30;
      for (let i = 0; i < data.length; i += 4) {
        if (near(i, 0x5f, 0xb9, 0x6c)) query++;
        if (near(i, 0xe3, 0x37, 0x8f)) key++;
      }
      return { label: f.getAttribute('aria-label') ?? '', query, key, pixels: Array.from(data) };
    }),
  );
}

const status = (page: Page) => page.getByTestId('projection-status').textContent();

/** Query- and key-coloured pixels of the 3D matrix canvas, read from what it drew. */
async function matrixPixels(page: Page): Promise<{ query: number; key: number }> {
  return page.evaluate(async () => {
    const canvas = document.querySelector('[data-testid="matrix-view"] canvas') as HTMLCanvasElement;
    const img = new Image();
    img.src = canvas.toDataURL('image/png');
    await img.decode();
    const copy = document.createElement('canvas');
    copy.width = img.width;
    copy.height = img.height;
    const ctx = copy.getContext('2d')!;
    ctx.drawImage(img, 0, 0);
    const data = ctx.getImageData(0, 0, copy.width, copy.height).data;
    let query = 0;
    let key = 0;
    for (let i = 0; i < data.length; i += 4) {
      if (Math.abs(data[i] - 0x5f) + Math.abs(data[i + 1] - 0xb9) + Math.abs(data[i + 2] - 0x6c) < 30) query++;
      if (Math.abs(data[i] - 0xe3) + Math.abs(data[i + 1] - 0x37) + Math.abs(data[i + 2] - 0x8f) < 30) key++;
    }
    return { query, key };
  });
}

describe('projections', () => {
  it('shows every head’s PCA layout, then UMAP, in 3D and 2D, and reuses them from the cache', async () => {
    const { page, errors } = browser();
    await openApp(page, baseURL, '?device=wasm');
    await pasteCorpus(page, CORPUS);
    await runToEnd(page);
    await expect.poll(() => status(page), { timeout: 60_000 }).toMatch(/PCA 72\/72 heads/);

    // The 3D matrix: all heads in one scene, labelled, drawn with a handful of draw calls.
    const matrix = page.getByTestId('matrix-view');
    await expect.poll(async () => (await matrixPixels(page)).key, { timeout: 30_000 }).toBeGreaterThan(2000);
    expect((await matrixPixels(page)).query).toBeGreaterThan(2000);
    for (const label of ['L0 H0', 'L3 H7', 'L5 H11']) expect(await matrix.getByText(label, { exact: true }).count()).toBe(1);
    expect(Number(await matrix.getAttribute('data-draw-calls'))).toBeGreaterThanOrEqual(1);
    expect(Number(await matrix.getAttribute('data-draw-calls'))).toBeLessThanOrEqual(3);

    // Selecting a head puts its UMAP ahead of the queue: it arrives right after the heads in flight
    // (the status line may lag a head behind, and a worker may take the next head as the click
    // lands), not 60-odd heads later as layer order would have it.
    const umapDone = async () => Number((await status(page))?.match(/UMAP (\d+)\/72/)?.[1]);
    const workers = Number((await status(page))?.match(/(\d+) worker/)?.[1]);
    const before = await umapDone();
    await page.getByRole('button', { name: 'Select L5 H11' }).click();
    expect(await page.getByRole('button', { name: 'Select L5 H11' }).getAttribute('aria-pressed')).toBe('true');
    await page.getByLabel('UMAP').check();
    await page.locator('figure[aria-label="L5 H11"][data-ready="yes"]').waitFor({ timeout: 60_000 });
    expect(await umapDone()).toBeLessThanOrEqual(before + 2 * workers + 2);
    expect(before + 2 * workers + 2).toBeLessThan(40);
    await page.getByLabel('PCA').check();

    const pca = await cellPixels(page);
    expect(pca.map((c) => c.label)).toEqual(Array.from({ length: 72 }, (_, i) => `L${Math.floor(i / 12)} H${i % 12}`));
    for (const cell of pca) {
      expect(cell.query, `${cell.label} query pixels`).toBeGreaterThan(20);
      expect(cell.key, `${cell.label} key pixels`).toBeGreaterThan(20);
    }

    await expect.poll(() => status(page), { timeout: 240_000, interval: 1000 }).toMatch(/UMAP 72\/72 heads/);
    await page.getByLabel('UMAP').check();
    const umap = await cellPixels(page);
    let changed = 0;
    umap.forEach((cell, i) => {
      expect(cell.query, `${cell.label} query pixels`).toBeGreaterThan(0);
      expect(cell.key, `${cell.label} key pixels`).toBeGreaterThan(0);
      const diff = cell.pixels.reduce((n, v, j) => n + (v !== pca[i].pixels[j] ? 1 : 0), 0);
      if (diff > cell.pixels.length * 0.02) changed++;
    });
    expect(changed).toBe(72);
    await page.screenshot({ path: 'test-results/projections-umap.png', fullPage: true });

    await page.getByLabel('PCA').check();
    await page.getByLabel('Dimensions').selectOption('2');
    await expect.poll(() => status(page), { timeout: 60_000 }).toMatch(/PCA 72\/72 heads/);
    for (const cell of await cellPixels(page)) expect(cell.query + cell.key).toBeGreaterThan(40);
    expect(errors).toEqual([]);

    // Same corpus again: the layouts come from IndexedDB, nothing is recomputed.
    await openApp(page, baseURL, '?device=wasm');
    await pasteCorpus(page, CORPUS);
    await runToEnd(page);
    await expect.poll(() => status(page), { timeout: 60_000 }).toMatch(/PCA 72\/72 heads .* UMAP 72\/72 heads .* 144 from cache/);
  });
});
