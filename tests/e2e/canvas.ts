// Reading the 3D view as a person sees it: the canvas's pixels (query green, key pink, link
// yellow) within screen rectangles, and where each head's cell is, found from its label.
import type { Page } from 'playwright-core';
import { expect } from 'vitest';

export interface Rect {
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface PixelCounts {
  query: number;
  key: number;
  link: number;
  /** Every pixel quantised to 4 bits a channel, to tell two pictures apart. */
  signature: string;
  /** The points the view said it drew (data-drawn-points) when this picture was taken. */
  drawnPoints: number;
}

type CanvasQuestion = { rects: Rect[] | null } | { queryDot: true } | { extent: true };

/** Reads the view's canvas as drawn (via a PNG of it) and answers one question in the page. */
function askCanvas(
  page: Page,
  view: string,
  question: CanvasQuestion,
): Promise<PixelCounts[] | { x: number; y: number } | { width: number; height: number } | null> {
  return page.evaluate(
    async ([testId, q]) => {
      const canvas = document.querySelector(`[data-testid="${testId}"] canvas`) as HTMLCanvasElement;
      const img = new Image();
      // Read together with the picture: no frame can be drawn between the two.
      const drawnPoints = Number((document.querySelector(`[data-testid="${testId}"]`) as HTMLElement).dataset.drawnPoints ?? NaN);
      img.src = canvas.toDataURL('image/png');
      await img.decode();
      const copy = document.createElement('canvas');
      copy.width = img.width;
      copy.height = img.height;
      const ctx = copy.getContext('2d')!;
      ctx.drawImage(img, 0, 0);
      const all = ctx.getImageData(0, 0, copy.width, copy.height).data;
      const isQuery = (i: number) => Math.abs(all[i] - 0x5f) + Math.abs(all[i + 1] - 0xb9) + Math.abs(all[i + 2] - 0x6c) < 30;
      const isKey = (i: number) => Math.abs(all[i] - 0xe3) + Math.abs(all[i + 1] - 0x37) + Math.abs(all[i + 2] - 0x8f) < 30;
      if ('extent' in q) {
        const xs: number[] = [];
        const ys: number[] = [];
        for (let y = 0; y < copy.height; y++) {
          for (let x = 0; x < copy.width; x++) {
            const i = (y * copy.width + x) * 4;
            if (isQuery(i) || isKey(i)) {
              xs.push(x);
              ys.push(y);
            }
          }
        }
        // The 1st–99th percentile span, so a stray point does not count as the cloud.
        const spread = (v: number[], size: number) => {
          v.sort((a, b) => a - b);
          return v.length ? (v[Math.floor(v.length * 0.99)] - v[Math.floor(v.length * 0.01)]) / size : 0;
        };
        return { width: spread(xs, copy.width), height: spread(ys, copy.height) };
      }
      if ('queryDot' in q) {
        for (let y = 2; y < copy.height - 2; y++) {
          for (let x = 2; x < copy.width - 2; x++) {
            let every = true;
            for (let dy = -1; dy <= 1 && every; dy++) for (let dx = -1; dx <= 1 && every; dx++) every = isQuery(((y + dy) * copy.width + x + dx) * 4);
            if (every) return { x, y };
          }
        }
        return null;
      }
      return (q.rects ?? [{ x: 0, y: 0, width: copy.width, height: copy.height }]).map((r) => {
        let query = 0;
        let key = 0;
        let link = 0;
        let signature = '';
        const x0 = Math.max(0, Math.round(r.x));
        const y0 = Math.max(0, Math.round(r.y));
        const x1 = Math.min(copy.width, Math.round(r.x + r.width));
        const y1 = Math.min(copy.height, Math.round(r.y + r.height));
        for (let y = y0; y < y1; y++) {
          for (let x = x0; x < x1; x++) {
            const i = (y * copy.width + x) * 4;
            const [red, green, blue] = [all[i], all[i + 1], all[i + 2]];
            if (isQuery(i)) query++;
            if (isKey(i)) key++;
            // #FFC300 at any opacity over the dark background: a yellow-orange hue.
            if (red > 90 && green > 0.55 * red && green < 0.9 * red && blue < 0.3 * red) link++;
            signature += ((red >> 4) * 256 + (green >> 4) * 16 + (blue >> 4)).toString(36);
          }
        }
        return { query, key, link, signature, drawnPoints };
      });
    },
    [view, question] as const,
  );
}

/** Pixel counts per rectangle (canvas pixels); the whole canvas when no rectangles are given. */
export async function canvasPixels(page: Page, rects?: Rect[], view = 'matrix-view'): Promise<PixelCounts[]> {
  return (await askCanvas(page, view, { rects: rects ?? null })) as PixelCounts[];
}

/** A canvas position whose 3×3 neighbourhood is all query green: the middle of a query dot. */
export async function findQueryDot(page: Page, view = 'matrix-view'): Promise<{ x: number; y: number } | null> {
  return (await askCanvas(page, view, { queryDot: true })) as { x: number; y: number } | null;
}

/** How much of the canvas the query/key pixels span (1st–99th percentile), as shares of its width and height. */
export async function cloudExtent(page: Page, view = 'matrix-view'): Promise<{ width: number; height: number }> {
  return (await askCanvas(page, view, { extent: true })) as { width: number; height: number };
}

/**
 * Waits until the view stops changing (a camera flight ended, layouts arrived): the picture is
 * the same before and after a new frame was rendered, or nothing was rendered for a second.
 * (With slow software rendering a frame can take longer than the gap between two reads, so
 * two equal reads alone do not prove the view is still.)
 */
export async function settled(page: Page, view = 'matrix-view'): Promise<void> {
  const frames = async () => Number(await page.getByTestId(view).getAttribute('data-frames'));
  const picture = async () => (await canvasPixels(page, undefined, view))[0].signature;
  await expect
    .poll(
      async () => {
        const [f0, p0] = [await frames(), await picture()];
        const started = Date.now();
        while (Date.now() - started < 1000 && (await frames()) === f0) await page.waitForTimeout(100);
        const [f1, p1] = [await frames(), await picture()];
        return p0 === p1 && (f1 > f0 || Date.now() - started >= 1000);
      },
      { timeout: 20_000 },
    )
    .toBe(true);
}

/** Share of differing characters between two signatures of the same rectangle. */
export function difference(a: string, b: string): number {
  let diff = 0;
  for (let i = 0; i < Math.max(a.length, b.length); i++) if (a[i] !== b[i]) diff++;
  return diff / Math.max(1, a.length);
}

/**
 * Each head's cell in the matrix view, in canvas pixels, located from its "L3 H7" label — or,
 * where cells are drawn too small for labels, from the row and column labels at the edges.
 */
export async function matrixCells(page: Page, layers: number, heads: number): Promise<{ label: string; rect: Rect; centre: { x: number; y: number } }[]> {
  const view = page.getByTestId('matrix-view');
  const origin = (await view.locator('canvas').boundingBox())!;
  const centreOfBox = (b: { x: number; y: number; width: number; height: number }) => ({ x: b.x + b.width / 2 - origin.x, y: b.y + b.height / 2 - origin.y });
  const cells = [];
  if ((await view.locator('.cell-labels').getAttribute('data-labels')) === 'none') {
    // Row labels sit level with their row's centres, column labels above their column's.
    const rows = await view.locator('.axis-layer').evaluateAll((els) =>
      els.map((e) => {
        const r = e.getBoundingClientRect();
        return { i: Number((e as HTMLElement).dataset.layer), y: r.y + r.height / 2, shown: getComputedStyle(e).visibility !== 'hidden' };
      }),
    );
    const columns = await view.locator('.axis-head').evaluateAll((els) =>
      els.map((e) => {
        const r = e.getBoundingClientRect();
        return { i: Number((e as HTMLElement).dataset.head), x: r.x + r.width / 2, shown: getComputedStyle(e).visibility !== 'hidden' };
      }),
    );
    expect(rows.filter((r) => r.shown).length, 'row labels shown').toBeGreaterThan(1);
    expect(columns.filter((c) => c.shown).length, 'column labels shown').toBeGreaterThan(1);
    const unit = (columns[1].x - columns[0].x) / 2.4;
    for (let l = 0; l < layers; l++) {
      for (let h = 0; h < heads; h++) {
        const centre = { x: columns[h].x - origin.x, y: rows[l].y - origin.y };
        cells.push({ label: `L${l} H${h}`, centre, rect: { x: centre.x - 1.05 * unit, y: centre.y - 1.05 * unit, width: 2.1 * unit, height: 2.1 * unit } });
      }
    }
    return cells;
  }
  const centreOf = async (label: string) => centreOfBox((await view.locator('.cell-label').getByText(label, { exact: true }).boundingBox())!);
  const a = await centreOf('L0 H0');
  const b = await centreOf('L0 H1');
  // Labels sit 1.15 cell units below the cell centre; cells are 2.4 units apart and a head's
  // layout fills the unit ball around its centre.
  const unit = (b.x - a.x) / 2.4;
  for (let l = 0; l < layers; l++) {
    for (let h = 0; h < heads; h++) {
      const label = `L${l} H${h}`;
      const c = await centreOf(label);
      const centre = { x: c.x, y: c.y - 1.15 * unit };
      cells.push({ label, centre, rect: { x: centre.x - 1.05 * unit, y: centre.y - 1.05 * unit, width: 2.1 * unit, height: 2.1 * unit } });
    }
  }
  return cells;
}

/** Moves the mouse to / clicks a canvas position. */
export async function canvasPoint(page: Page, p: { x: number; y: number }, view = 'matrix-view'): Promise<{ x: number; y: number }> {
  const box = (await page.getByTestId(view).locator('canvas').boundingBox())!;
  return { x: box.x + p.x, y: box.y + p.y };
}

/** Each head's cell of the matrix with the query and key pixels drawn in it. */
export async function cellPixels(page: Page, layers: number, heads: number): Promise<({ label: string; rect: Rect } & PixelCounts)[]> {
  const cells = await matrixCells(page, layers, heads);
  const pixels = await canvasPixels(
    page,
    cells.map((c) => c.rect),
  );
  return cells.map((c, i) => ({ label: c.label, rect: c.rect, ...pixels[i] }));
}
