// The head map and "heads like this one", as a person uses them: the map draws one point per
// head (counted in its pixels: separate blobs), names the head under the pointer with its
// thumbnail, and a click flies to that head; in the head view, the similar heads are listed
// with thumbnails and a click goes there keeping the selected token.
import type { Page } from 'playwright-core';
import { describe, expect, inject, it } from 'vitest';
import { defaultSentences } from '../helpers/extraction';
import { browserForFile } from './browser';
import { canvasPoint, findQueryDot, settled } from './canvas';
import { openApp, pasteCorpus, projectionStatus, runToEnd } from './helpers';

const baseURL = inject('baseURL');
const browser = browserForFile();

/** The head map's points as the canvas shows them: blobs of non-background pixels (centre, area), in CSS pixels. */
async function mapBlobs(page: Page): Promise<{ x: number; y: number; area: number }[]> {
  return page
    .getByTestId('head-map')
    .locator('canvas')
    .evaluate((canvas: HTMLCanvasElement) => {
      const { width, height } = canvas;
      const px = canvas.getContext('2d')!.getImageData(0, 0, width, height).data;
      const ratio = width / canvas.clientWidth;
      const ink = (i: number) => Math.abs(px[4 * i] - 0x11) + Math.abs(px[4 * i + 1] - 0x14) + Math.abs(px[4 * i + 2] - 0x1a) > 40;
      const seen = new Uint8Array(width * height);
      const blobs: { x: number; y: number; area: number }[] = [];
      for (let start = 0; start < width * height; start++) {
        if (seen[start] || !ink(start)) continue;
        const stack = [start];
        seen[start] = 1;
        let [sx, sy, n] = [0, 0, 0];
        while (stack.length) {
          const i = stack.pop()!;
          const x = i % width;
          const y = (i - x) / width;
          sx += x;
          sy += y;
          n++;
          for (const j of [x > 0 ? i - 1 : -1, x < width - 1 ? i + 1 : -1, y > 0 ? i - width : -1, y < height - 1 ? i + width : -1]) {
            if (j >= 0 && !seen[j] && ink(j)) {
              seen[j] = 1;
              stack.push(j);
            }
          }
        }
        if (n >= 4) blobs.push({ x: sx / n / ratio, y: sy / n / ratio, area: n / ratio / ratio });
      }
      return blobs;
    });
}

describe('head map', () => {
  it('shows one point per head, names the one under the pointer, and flies to it on a click', async () => {
    const { page, errors } = browser();
    await openApp(page, baseURL, '?device=wasm');
    await pasteCorpus(page, defaultSentences().slice(0, 40).join('\n'));
    await runToEnd(page);
    await expect.poll(() => projectionStatus(page), { timeout: 60_000 }).toMatch(/PCA 72\/72 heads/);

    await page.getByRole('button', { name: 'Head map' }).click();
    const map = page.getByTestId('head-map');
    await map.locator('canvas[data-points="72"]').waitFor({ timeout: 60_000 });
    expect(await page.getByTestId('head-map-about').textContent()).toMatch(/Jensen–Shannon distance .* query rows/);
    await page.screenshot({ path: 'test-results/head-map.png' });
    let blobs = await mapBlobs(page);
    // One point a head; two heads placed on top of each other merge into one blob.
    expect(blobs.length).toBeGreaterThanOrEqual(50);
    expect(blobs.length).toBeLessThanOrEqual(72);

    // Q/K geometry and classical MDS (PCA) place them too.
    await map.getByRole('radio', { name: 'Q/K geometry' }).check();
    await map.getByRole('radio', { name: 'PCA' }).check();
    await expect.poll(() => page.getByTestId('head-map-about').textContent(), { timeout: 60_000 }).toMatch(/arccos of linear CKA.* tokens/);
    await expect.poll(async () => (await mapBlobs(page)).length, { timeout: 60_000 }).toBeGreaterThanOrEqual(20);
    blobs = await mapBlobs(page);

    // Hover a lone point: its head is named, with a thumbnail; a click flies there.
    const lone = [...blobs].sort((a, b) => a.area - b.area)[0];
    const box = (await map.locator('canvas').boundingBox())!;
    await page.mouse.move(box.x + lone.x, box.y + lone.y);
    const tooltip = page.getByTestId('head-map-tooltip');
    await tooltip.waitFor();
    const name = (await tooltip.locator('.tooltip-title').textContent())!.trim();
    expect(name).toMatch(/^L\d H\d+$/);
    expect(await tooltip.locator('canvas.head-thumb').count()).toBe(1);
    await page.mouse.click(box.x + lone.x, box.y + lone.y);
    await expect.poll(() => page.getByTestId('head-title').textContent()).toBe(`Head ${name}`);
    expect(await map.count()).toBe(0);
    expect(errors).toEqual([]);
  });

  it('lists heads like this one with thumbnails, and goes there keeping the selected token', async () => {
    const { page } = browser();
    const title = page.getByTestId('head-title');
    await settled(page);
    const dot = (await findQueryDot(page))!;
    await page.mouse.click(...(Object.values(await canvasPoint(page, dot)) as [number, number]));
    const selection = page.getByTestId('selection');
    await selection.waitFor();
    const selected = (await selection.locator('p').first().textContent())!.split(' · ')[0];

    const similar = page.getByTestId('similar-heads');
    const buttons = similar.getByRole('button', { name: /^Go to L\d H\d+$/ });
    await expect.poll(() => buttons.count(), { timeout: 60_000 }).toBe(6);
    expect(await similar.locator('canvas.head-thumb').count()).toBe(6);
    const distances = (await buttons.allTextContents()).map((t) => Number(t.split('·')[1]));
    expect(distances.every((d) => d >= 0 && d <= 1)).toBe(true);
    expect([...distances].sort((a, b) => a - b)).toEqual(distances);
    const target = (await buttons.first().getAttribute('aria-label'))!.replace('Go to ', '');
    expect(`Head ${target}`).not.toBe(await title.textContent());
    await buttons.first().click();
    await expect.poll(() => title.textContent()).toBe(`Head ${target}`);
    expect((await selection.locator('p').first().textContent())!.split(' · ')[0]).toBe(selected);
  });
});
