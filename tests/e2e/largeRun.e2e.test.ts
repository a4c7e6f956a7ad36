// A run with more points per head than the matrix overview draws (the default corpus twice:
// 10,406 tokens, 20,812 points a head, over the overview's 16,896): the page holds each head's
// overview — the first points of the run's sample order — and only the heads it draws in full.
// Every cell still shows both colours; the head a person opens arrives in full (every one of its
// points drawn), as does its UMAP layout; the coordinates export holds every head in full.
import { readFileSync } from 'node:fs';
import { describe, expect, inject, it } from 'vitest';
import { browserForFile } from './browser';
import { canvasPixels, cellPixels, settled } from './canvas';
import { goToHead, openApp, openExportMenu, pasteCorpus, projectionStatus, runToEnd } from './helpers';
import { defaultSentences } from '../helpers/extraction';

const baseURL = inject('baseURL');
const browser = browserForFile();
const CORPUS = [...defaultSentences(), ...defaultSentences()].join('\n');

const drawn = async (page: import('playwright-core').Page) => Number(await page.getByTestId('matrix-view').getAttribute('data-drawn-points'));

describe('a run larger than the matrix overview', () => {
  it('draws every cell from overviews, and the opened head in full', async () => {
    const { page, errors } = browser();
    await openApp(page, baseURL, '?device=wasm');
    await pasteCorpus(page, CORPUS);
    const summary = await runToEnd(page);
    const tokens = Number(/([\d,]+) tokens/.exec(summary)![1].replace(/,/g, ''));
    expect(2 * tokens).toBeGreaterThan(16_896);
    await expect.poll(() => projectionStatus(page), { timeout: 120_000 }).toMatch(/PCA 72\/72 heads/);
    await settled(page);
    const cells = await cellPixels(page, 6, 12);
    const bare = cells.filter((c) => c.query < 10 || c.key < 10).map((c) => c.label);
    expect(bare, 'cells without both colours').toEqual([]);
    // A still matrix draws at most each head's overview.
    expect(await drawn(page)).toBeLessThanOrEqual(72 * 16_896);

    // The opened head: its full layout is computed from the stored vectors and every point drawn.
    await goToHead(page, 3, 7);
    await expect.poll(() => drawn(page), { timeout: 60_000 }).toBe(2 * tokens);
    await settled(page);
    const [head] = await canvasPixels(page);
    expect(head.query).toBeGreaterThan(200);
    expect(head.key).toBeGreaterThan(200);
    // Its UMAP layout too.
    await page.getByRole('radio', { name: 'UMAP' }).check();
    await page.getByText('The UMAP layout of L3 H7 is being computed').waitFor({ state: 'detached', timeout: 120_000 });
    await expect.poll(() => drawn(page), { timeout: 60_000 }).toBe(2 * tokens);
    await page.getByRole('radio', { name: 'PCA' }).check();
    await page.getByRole('button', { name: 'Back to matrix' }).click();

    // The coordinates export holds every head in full: [6, 12, 2N, 3] float32.
    await openExportMenu(page);
    const download = page.waitForEvent('download', { timeout: 180_000 });
    await page.getByRole('button', { name: 'Coordinates as NPY' }).click();
    const path = await (await download).path();
    const npy = readFileSync(path!);
    const header = npy.subarray(10, 10 + npy.readUInt16LE(8)).toString('latin1');
    expect(header).toContain(`'shape': (6, 12, ${2 * tokens}, 3)`);
    expect(npy.byteLength).toBeGreaterThan(6 * 12 * 2 * tokens * 3 * 4);
    expect(errors).toEqual([]);
  });
});
