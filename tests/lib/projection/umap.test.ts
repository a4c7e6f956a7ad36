// QKViz's typed-array UMAP computes what umap-js computes: with the same kNN graph and
// seed it returns umap-js's layout; it is deterministic; and NN-descent finds nearly all
// true neighbours.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { UMAP } from 'umap-js';
import { umapArena, umapWasmAvailable } from '../../../lib/projection/kernels';
import { disableWasm } from '../../../lib/wasm/arena';
import { exactKnn, nnDescentJs, nnDescentKnn } from '../../../lib/projection/knn';
import { trustworthiness } from '../../../lib/projection/quality';
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

describe('WebAssembly kernels', () => {
  it('are what runs here (Node 20 has WebAssembly SIMD)', () => {
    expect(umapWasmAvailable()).toBe(true);
  });

  it('NN-descent returns the JavaScript version’s neighbours (same PRNG draws; f32 sums may swap near-ties)', () => {
    const [n, d, k] = [2000, 32, 15];
    const x = blobs(n, d, 5, 21);
    const js = nnDescentJs(x, n, d, k, 'euclidean', 4);
    const wasm = nnDescentKnn(x, n, d, k, 'euclidean', 4);
    let same = 0;
    let worst = 0;
    for (let e = 0; e < n * k; e++) {
      if (js.indices[e] === wasm.indices[e]) same++;
      worst = Math.max(worst, Math.abs(js.distances[e] - wasm.distances[e]) / Math.max(1e-6, js.distances[e]));
    }
    expect(same / (n * k)).toBeGreaterThan(0.99);
    expect(worst).toBeLessThan(1e-4);
  });

  it('an SGD epoch moves the layout as the JavaScript epoch does (to 1e-4), and a full run is as trustworthy', () => {
    const [n, d, k] = [1200, 8, 15];
    const x = blobs(n, d, 4, 13);
    const knn = exactKnn(x, n, d, k);
    const run = (epochs: number, off: boolean) => {
      disableWasm(off);
      try {
        const layout = new UmapLayout(knn, { dims: 3, seed: 8, nEpochs: 60 });
        for (let e = 0; e < epochs; e++) layout.step();
        return Float64Array.from(layout.embedding);
      } finally {
        disableWasm(false);
      }
    };
    const [wasm, js] = [run(2, false), run(2, true)];
    let maxDiff = 0;
    for (let i = 0; i < wasm.length; i++) maxDiff = Math.max(maxDiff, Math.abs(wasm[i] - js[i]));
    // The WebAssembly epoch looks its coefficients up in tables (within 2e-6 of the formula).
    expect(maxDiff).toBeLessThan(1e-4);
    const [fullWasm, fullJs] = [run(60, false), run(60, true)];
    const trust = (y: Float64Array) => trustworthiness(x, d, y, 3, 10, 300);
    expect(Math.abs(trust(fullWasm) - trust(fullJs))).toBeLessThan(0.01);
    expect(trust(fullWasm)).toBeGreaterThan(0.9);
  });

  it('its table-driven x^b agrees with Math.pow to 1e-9 over the range SGD sees', () => {
    const { exports } = umapArena(0);
    const rand = seededRandom(2);
    let worst = 0;
    for (let i = 0; i < 20000; i++) {
      const x = Math.exp((rand() - 0.5) * 30);
      const b = 0.5 + rand();
      worst = Math.max(worst, Math.abs(exports.powForTest(x, b) / Math.pow(x, b) - 1));
    }
    expect(worst).toBeLessThan(1e-9);
  });

  it('looks up gradient coefficients within 1e-5 of umap-js’s formulas, for every d² an epoch meets', () => {
    const { exports } = umapArena(0);
    const [a, b, gamma] = [1.577, 0.8951, 1];
    let worst = 0;
    for (let e = -24; e <= 16; e += 0.01) {
      const d2 = 2 ** e;
      const attract = (-2 * a * b * d2 ** (b - 1)) / (a * d2 ** b + 1);
      const repel = (2 * gamma * b) / ((0.001 + d2) * (a * d2 ** b + 1));
      worst = Math.max(
        worst,
        Math.abs(exports.coefficientForTest(d2, a, b, gamma, 0) / attract - 1),
        Math.abs(exports.coefficientForTest(d2, a, b, gamma, 1) / repel - 1),
      );
    }
    expect(worst).toBeLessThan(1e-5);
  });

  it('the committed module is the one wasm/umap.ts compiles to', () => {
    const r = spawnSync(process.execPath, [join(import.meta.dirname, '../../../scripts/build-wasm.mjs'), '--check'], { encoding: 'utf8' });
    expect(r.stdout + r.stderr).toContain('every module up to date');
  });
});
