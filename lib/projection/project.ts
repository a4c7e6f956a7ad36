// Projects one head: its N queries and N keys (normalized) jointly, by PCA or UMAP, to 2D
// or 3D, centred and scaled into the unit ball. Output rows: the N queries in token order,
// then the N keys.
import type { HeadNormalization } from '../analysis/normalize';
import { applyNormalization } from '../analysis/normalize';
import { type QueryKeyData, headVectors } from '../data/layout';
import { seededRandom } from '../util/random';
import { fitToUnitBall } from './fit';
import { umapWasmAvailable } from './kernels';
import { type Metric, nnDescentKnn } from './knn';
import { pca } from './pca';
import { headPcaLayout } from './pcaMoments';
import { UmapLayout, defaultEpochs } from './umap';

export type ProjectionMethod = 'pca' | 'umap';

export interface ProjectionParams {
  method: ProjectionMethod;
  dims: 2 | 3;
  seed: number;
  metric: Metric;
  nNeighbors: number;
  /** UMAP epochs; 0 = by point count (umapEpochs). */
  epochs: number;
  /** UMAP starting layout: PCA (default) or uniform random as umap-js. */
  init?: 'pca' | 'random';
}

export const DEFAULT_PROJECTION: ProjectionParams = { method: 'pca', dims: 3, seed: 42, metric: 'euclidean', nNeighbors: 15, epochs: 0 };

/**
 * UMAP epochs by point count: 0.6 of umap-js's schedule (500 → 300 at ≤ 2,500 points …
 * 200 → 120 above 7,500). Measured on six real 10k-point heads (bench/projection.ts): from
 * a PCA start, 100 epochs came within 0.005 of umap-js defaults' trustworthiness on every
 * one, the closest by 0.0047; 120 leaves a margin (50 epochs fell up to 0.009 short).
 */
export function umapEpochs(points: number): number {
  return Math.ceil(0.6 * defaultEpochs(points));
}

/** umap-learn's init="pca": the first `dims` components scaled to ±10, plus 1e-4 of seeded noise. */
export function pcaStart(joint: Float32Array, n: number, d: number, dims: number, seed: number): Float64Array {
  const coords = pca(joint, n, d, dims).coords;
  let max = 0;
  for (const c of coords) max = Math.max(max, Math.abs(c));
  const random = seededRandom(seed ^ 0x5eed);
  const scale = max > 0 ? 10 / max : 0;
  return Float64Array.from(coords, (c) => c * scale + (random() - 0.5) * 2e-4);
}

/** One head's normalized queries then keys as one [2N][d] array. */
export function jointVectors(data: QueryKeyData, layer: number, head: number, norm: HeadNormalization): Float32Array {
  const { q, k } = headVectors(data, layer, head);
  const joint = new Float32Array(q.length * 2);
  applyNormalization(q, k, data.headDim, norm, joint.subarray(0, q.length), joint.subarray(q.length));
  return joint;
}

export interface HeadProjection {
  coords: Float32Array;
  /** PCA only: variance explained by each kept component. */
  explainedVariance?: number[];
  ms: number;
  /** UMAP only: where its kNN and SGD ran. */
  kernel?: UmapKernel;
}

export type UmapKernel = 'WebAssembly SIMD' | 'JavaScript';

/**
 * One head from its raw queries and keys and a normalization: PCA from the head's moments
 * (pcaMoments.ts, the same layouts a run makes with its analysis), UMAP of the joint vectors.
 */
export function projectHeadVectors(
  q: Float32Array,
  k: Float32Array,
  d: number,
  norm: HeadNormalization,
  params: ProjectionParams,
  onEpoch?: (epoch: number, total: number) => boolean,
): HeadProjection {
  if (params.method !== 'pca') {
    const joint = new Float32Array(q.length * 2);
    applyNormalization(q, k, d, norm, joint.subarray(0, q.length), joint.subarray(q.length));
    return projectHead(joint, d, params, onEpoch);
  }
  const started = performance.now();
  const { coords, explainedVariance } = headPcaLayout(q, k, d, norm, params.dims);
  return { coords, explainedVariance, ms: performance.now() - started };
}

/** `onEpoch` lets a worker report progress and stop between UMAP epochs (return false to stop). */
export function projectHead(joint: Float32Array, d: number, params: ProjectionParams, onEpoch?: (epoch: number, total: number) => boolean): HeadProjection {
  const started = performance.now();
  const n = joint.length / d;
  let coords: Float32Array;
  let explainedVariance: number[] | undefined;
  let kernel: UmapKernel | undefined;
  if (params.method === 'pca') {
    const r = pca(joint, n, d, params.dims);
    coords = r.coords;
    explainedVariance = Array.from(r.explainedVariance.subarray(0, params.dims));
  } else {
    const knn = nnDescentKnn(joint, n, d, Math.min(params.nNeighbors, n - 1), params.metric, params.seed);
    const init = params.init === 'random' ? undefined : pcaStart(joint, n, d, params.dims, params.seed);
    const layout = new UmapLayout(knn, { dims: params.dims, seed: params.seed, nEpochs: params.epochs || umapEpochs(n), init });
    while (!layout.done) {
      layout.step();
      if (onEpoch && onEpoch(layout.currentEpoch, layout.nEpochs) === false) break;
    }
    coords = Float32Array.from(layout.embedding);
    kernel = umapWasmAvailable() ? 'WebAssembly SIMD' : 'JavaScript';
  }
  fitToUnitBall(coords, params.dims);
  return { coords, explainedVariance, ms: performance.now() - started, kernel };
}
