// The page's layout store for a run too large to hold every head's every point: each head keeps
// its overview (the sample order's first points, gathered from the full layout when it arrives),
// and full layouts only within a budget — pinned heads (what a view draws in full) are never
// dropped, others least recently used first; a head wanted in full and not held is asked for.
import { describe, expect, it } from 'vitest';
import { LayoutStore, type LayoutView } from '../../components/projection/LayoutStore';
import { FULL_LAYOUT_BYTES, overviewOf, overviewPoints, sampleOrder } from '../../lib/views/lod';
import { seededRandom } from '../../lib/util/random';

const view: LayoutView = { mode: 'optimized', method: 'pca', dims: 3 };

describe('overviews', () => {
  it('hold the sample order’s first points, in that order', () => {
    const starts = Int32Array.of(0, 4, 10);
    const order = sampleOrder(starts, 10, seededRandom(1));
    const full = Float32Array.from({ length: 20 * 3 }, (_, i) => i);
    const o = overviewOf(full, order, 7, 3);
    for (let v = 0; v < 7; v++) expect(Array.from(o.subarray(v * 3, v * 3 + 3))).toEqual(Array.from(full.subarray(order[v] * 3, order[v] * 3 + 3)));
  });

  it('are every point of a small run and about 1.2M points over all heads of a large one', () => {
    expect(overviewPoints(6, 12, 5_203)).toBe(2 * 5_203);
    expect(overviewPoints(6, 12, 200_000) * 72).toBeGreaterThanOrEqual(1_200_000);
    expect(overviewPoints(6, 12, 200_000) * 72).toBeLessThan(1_220_000);
  });
});

describe('a sampled layout store', () => {
  // Heads of 1M points (3 floats each: 12 MB a layout): the budget holds a dozen or so.
  const points = 1_000_000;
  const order = Int32Array.from({ length: points }, (_, i) => points - 1 - i);
  const store = () => new LayoutStore(2, 20, { order, overviewPoints: 1024 });
  const layout = (seed: number) => Float32Array.from({ length: points * 3 }, (_, i) => seed + i);

  it('derives a head’s overview from its full layout and keeps both', () => {
    const s = store();
    const full = layout(5);
    s.set(view, 0, 3, full, 'computed');
    expect(s.has(view, 0, 3)).toBe(true);
    expect(s.get(view, 0, 3)).toBe(full);
    const o = s.overview(view, 0, 3)!;
    expect(o.sampled).toBe(true);
    expect(o.coords.length).toBe(1024 * 3);
    expect(o.coords[0]).toBe(full[order[0] * 3]);
  });

  it('takes overviews alone, and asks for heads wanted in full that it does not hold', () => {
    const s = store();
    const asked: string[] = [];
    s.onWantFull = (_v, l, h) => asked.push(`${l},${h}`);
    s.set(view, 1, 2, new Float32Array(1024 * 3), 'cache', true);
    expect(s.has(view, 1, 2)).toBe(true);
    expect(s.get(view, 1, 2)).toBeNull();
    s.requestFull(view, [{ layer: 1, head: 2 }]);
    expect(asked).toEqual(['1,2']);
    s.set(view, 1, 2, layout(1), 'computed');
    expect(s.get(view, 1, 2)).not.toBeNull();
    s.requestFull(view, [{ layer: 1, head: 2 }]);
    expect(asked).toEqual(['1,2']);
  });

  it('keeps full layouts within its budget, dropping the least recently used but never a pinned one', () => {
    const s = store();
    const perLayout = points * 3 * 4;
    const fits = Math.floor(FULL_LAYOUT_BYTES / perLayout);
    s.set(view, 0, 0, layout(0), 'computed');
    s.requestFull(view, [{ layer: 0, head: 0 }]);
    for (let h = 1; h <= fits + 3; h++) s.set(view, 0, h, layout(h), 'computed');
    const held = Array.from({ length: fits + 4 }, (_, h) => s.get(view, 0, h) !== null);
    expect(held[0]).toBe(true); // pinned
    expect(held.filter(Boolean).length).toBeLessThanOrEqual(fits + 1);
    expect(held[fits + 3]).toBe(true); // the newest
    expect(held[1]).toBe(false); // the oldest unpinned
    // Every head keeps its overview.
    for (let h = 0; h <= fits + 3; h++) expect(s.has(view, 0, h)).toBe(true);
  });
});
