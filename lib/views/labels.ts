// Token labels that do not pile up: candidates in priority order are placed greedily at
// their point's screen position and skipped when they would overlap a label already
// placed. A coarse grid of buckets keeps each overlap test to a few neighbours.

export interface LabelBox {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** Grid bucket size in pixels; about one label's height so a box touches few buckets. */
const BUCKET = 24;

/**
 * Returns the indices (into boxes) of the labels to show, in the order placed: at most
 * `max`, each inside the viewport and overlapping none placed before it.
 */
export function placeLabels(boxes: readonly (LabelBox | null)[], order: Iterable<number>, viewport: { width: number; height: number }, max: number): number[] {
  const grid = new Map<number, LabelBox[]>();
  const placed: number[] = [];
  const cells = (b: LabelBox) => {
    const out: number[] = [];
    for (let gx = Math.floor(b.x / BUCKET); gx <= Math.floor((b.x + b.width) / BUCKET); gx++) {
      for (let gy = Math.floor(b.y / BUCKET); gy <= Math.floor((b.y + b.height) / BUCKET); gy++) out.push(gx * 100_003 + gy);
    }
    return out;
  };
  const overlaps = (a: LabelBox, b: LabelBox) => a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;
  for (const i of order) {
    if (placed.length >= max) break;
    const box = boxes[i];
    if (!box || box.x < 0 || box.y < 0 || box.x + box.width > viewport.width || box.y + box.height > viewport.height) continue;
    const keys = cells(box);
    if (keys.some((k) => grid.get(k)?.some((other) => overlaps(box, other)))) continue;
    for (const k of keys) {
      const list = grid.get(k);
      if (list) list.push(box);
      else grid.set(k, [box]);
    }
    placed.push(i);
  }
  return placed;
}

/**
 * The order in which points' labels are tried: the selected point, its sentence's points,
 * search matches, then every other point in a fixed shuffled order (so that, with nothing
 * selected, the labels shown are spread over the whole cloud rather than one sentence).
 */
export function labelPriority(points: number, shuffled: Int32Array, first: Iterable<number>): Int32Array {
  const used = new Uint8Array(points);
  const out = new Int32Array(points);
  let n = 0;
  const push = (p: number) => {
    if (p >= 0 && p < points && !used[p]) {
      used[p] = 1;
      out[n++] = p;
    }
  };
  for (const p of first) push(p);
  for (const p of shuffled) push(p);
  return out;
}

/** A seeded Fisher–Yates permutation of 0…n−1. */
export function shuffledPoints(n: number, random: () => number): Int32Array {
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) out[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}
