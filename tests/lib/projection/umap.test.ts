// QKViz's typed-array UMAP computes what umap-js computes: with the same kNN graph and
// seed it returns umap-js's layout; it is deterministic; and NN-descent finds nearly all
// true neighbours.
import { describe, expect, it } from 'vitest';
import { UMAP } from 'umap-js';
import { exactKnn, nnDescentKnn } from '../../../lib/projection/knn';
import { UmapLayout } from '../../../lib/projection/umap';
import { seededRandom } from '../../../lib/util/random';

/** Gaussian blobs in d dimensions, made by the test. */
function blobs(n: number, d: number, centers: number, seed: number): Float32Array {
  const rand = seededRandom(seed);
  const gauss = () => Math.sqrt(-2 * Math.log(rand() + 1e-12)) * Math.cos(2 * Math.PI * rand());
  const mus = Array.from({ length: centers }, () => Array.from({ length: d }, () => gauss() * 6));
  const out = new Float32Array(n * d);
  for (let i = 0; i < n; i++) for (let c = 0; c < d; c++) out[i * d + c] = mus[i % centers][c] + gauss();
  return out;
}

const toRows = (x: Float32Array, n: number, d: number) => Array.from({ length: n }, (_, i) => Array.from(x.subarray(i * d, (i + 1) * d)));

describe('UmapLayout', () => {
  it('returns umap-js’s own layout given the same kNN graph and seed', () => {
    const [n, d, k] = [400, 8, 15];
    const x = blobs(n, d, 4, 3);
    const knn = exactKnn(x, n, d, k);
    const rowsOf = (a: ArrayLike<number>) => Array.from({ length: n }, (_, i) => Array.from({ length: k }, (_, j) => a[i * k + j]));
    const reference = new UMAP({ nComponents: 3, random: seededRandom(11), nEpochs: 120 });
    reference.setPrecomputedKNN(rowsOf(knn.indices), rowsOf(knn.distances));
    const epochs = reference.initializeFit(toRows(x, n, d));
    for (let e = 0; e < epochs; e++) reference.step();
    const want = reference.getEmbedding();

    const ours = new UmapLayout(knn, { dims: 3, random: seededRandom(11), nEpochs: 120 }).run();
    let maxDiff = 0;
    for (let i = 0; i < n; i++) for (let c = 0; c < 3; c++) maxDiff = Math.max(maxDiff, Math.abs(ours[i * 3 + c] - want[i][c]));
    expect(maxDiff).toBeLessThan(1e-9);
  });

  it('is deterministic for a seed and changes with it', () => {
    const [n, d] = [300, 6];
    const x = blobs(n, d, 3, 5);
    const knn = nnDescentKnn(x, n, d, 15, 'euclidean', 1);
    const run = (seed: number) => new UmapLayout(knn, { dims: 2, random: seededRandom(seed), nEpochs: 50 }).run();
    expect(Array.from(run(4))).toEqual(Array.from(run(4)));
    expect(Array.from(run(4))).not.toEqual(Array.from(run(5)));
    expect(Array.from(nnDescentKnn(x, n, d, 15, 'euclidean', 1).indices)).toEqual(Array.from(knn.indices));
  });
});

describe('nnDescentKnn', () => {
  it.each(['euclidean', 'cosine'] as const)('finds at least 95 percent of the exact %s neighbours, self first', (metric) => {
    const [n, d, k] = [1500, 16, 15];
    const x = blobs(n, d, 6, 9);
    const exact = exactKnn(x, n, d, k, metric);
    const approx = nnDescentKnn(x, n, d, k, metric, 3);
    let hits = 0;
    for (let i = 0; i < n; i++) {
      expect(approx.indices[i * k]).toBe(i);
      expect(approx.distances[i * k]).toBe(0);
      const truth = new Set(exact.indices.subarray(i * k, (i + 1) * k));
      for (let j = 0; j < k; j++) if (truth.has(approx.indices[i * k + j])) hits++;
      for (let j = 1; j < k; j++) expect(approx.distances[i * k + j]).toBeGreaterThanOrEqual(approx.distances[i * k + j - 1]);
    }
    expect(hits / (n * k)).toBeGreaterThan(0.95);
  });
});
