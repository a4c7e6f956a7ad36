// The head map's layouts: classical MDS of Euclidean distances between points recovers those
// distances exactly (up to rotation), and both layouts fit the unit ball with one point a head.
import { describe, expect, it } from 'vitest';
import type { HeadDistances } from '../../../lib/analysis/headSimilarity';
import { classicalMds, headMapLayout } from '../../../lib/views/headMap';
import { seededRandom } from '../../../lib/util/random';

function distancesOf(points: number[][]): HeadDistances {
  const n = points.length;
  const values = new Float32Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) values[i * n + j] = Math.hypot(...points[i].map((v, d) => v - points[j][d]));
  return { kind: 'attention', cells: n, values, sampled: 1, total: 1 };
}

describe('head map layout', () => {
  it('classical MDS recovers the distances of points in 3D', () => {
    const rand = seededRandom(4);
    const points = Array.from({ length: 20 }, () => [rand(), rand() * 2, rand() * 0.5]);
    const d = distancesOf(points);
    const mds = classicalMds(d, 3);
    for (let i = 0; i < 20; i++) {
      for (let j = 0; j < 20; j++) {
        const got = Math.hypot(mds[i * 3] - mds[j * 3], mds[i * 3 + 1] - mds[j * 3 + 1], mds[i * 3 + 2] - mds[j * 3 + 2]);
        expect(got).toBeCloseTo(d.values[i * 20 + j], 4);
      }
    }
  });

  it('places every head inside the unit ball, with PCA and UMAP, in 2D and 3D', () => {
    const rand = seededRandom(8);
    // Two groups of heads: UMAP keeps each head's nearest neighbour in its own group.
    const points = Array.from({ length: 24 }, (_, i) => [rand() + (i < 12 ? 0 : 5), rand()]);
    const d = distancesOf(points);
    for (const method of ['pca', 'umap'] as const) {
      for (const dims of [2, 3] as const) {
        const coords = headMapLayout(d, method, dims);
        expect(coords.length).toBe(24 * dims);
        let max = 0;
        for (let i = 0; i < 24; i++) max = Math.max(max, Math.hypot(...coords.subarray(i * dims, i * dims + dims)));
        expect(max).toBeCloseTo(1, 5);
        for (let i = 0; i < 24; i++) {
          let best = -1;
          let bestD = Infinity;
          for (let j = 0; j < 24; j++) {
            if (j === i) continue;
            const dist = Math.hypot(...Array.from({ length: dims }, (_, c) => coords[i * dims + c] - coords[j * dims + c]));
            if (dist < bestD) [best, bestD] = [j, dist];
          }
          expect(best < 12, `${method} ${dims}D: head ${i}'s nearest`).toBe(i < 12);
        }
      }
    }
  });
});
