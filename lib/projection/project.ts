// Projects one head: its N queries and N keys (normalized) jointly, by PCA or UMAP, to 2D
// or 3D, centred and scaled into the unit ball. Output rows: the N queries in token order,
// then the N keys.
import type { HeadNormalization } from '../analysis/normalize';
import { applyNormalization } from '../analysis/normalize';
import { type QueryKeyData, headVectors } from '../engine/layout';
import { seededRandom } from '../util/random';
import { fitToUnitBall } from './fit';
import { type Metric, nnDescentKnn } from './knn';
import { pca } from './pca';
import { UmapLayout } from './umap';

export type ProjectionMethod = 'pca' | 'umap';

export interface ProjectionParams {
  method: ProjectionMethod;
  dims: 2 | 3;
  seed: number;
  metric: Metric;
  nNeighbors: number;
  /** UMAP epochs; 0 = by point count (umapEpochs). */
  epochs: number;
}

export const DEFAULT_PROJECTION: ProjectionParams = { method: 'pca', dims: 3, seed: 42, metric: 'euclidean', nNeighbors: 15, epochs: 0 };

/**
 * UMAP epochs by point count. umap-js uses 200–500; measured on real 10k-point heads, 50
 * epochs reach a trustworthiness within 0.005 of umap-js's defaults at a quarter of the
 * time, and small heads get more because they are cheap.
 */
export function umapEpochs(points: number): number {
  return points <= 2000 ? 200 : points <= 5000 ? 100 : 50;
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
}

/** `onEpoch` lets a worker report progress and stop between UMAP epochs (return false to stop). */
export function projectHead(joint: Float32Array, d: number, params: ProjectionParams, onEpoch?: (epoch: number, total: number) => boolean): HeadProjection {
  const started = performance.now();
  const n = joint.length / d;
  let coords: Float32Array;
  let explainedVariance: number[] | undefined;
  if (params.method === 'pca') {
    const r = pca(joint, n, d, params.dims);
    coords = r.coords;
    explainedVariance = Array.from(r.explainedVariance.subarray(0, params.dims));
  } else {
    const knn = nnDescentKnn(joint, n, d, Math.min(params.nNeighbors, n - 1), params.metric, params.seed);
    const layout = new UmapLayout(knn, { dims: params.dims, random: seededRandom(params.seed), nEpochs: params.epochs || umapEpochs(n) });
    while (!layout.done) {
      layout.step();
      if (onEpoch && onEpoch(layout.currentEpoch, layout.nEpochs) === false) break;
    }
    coords = Float32Array.from(layout.embedding);
  }
  fitToUnitBall(coords, params.dims);
  return { coords, explainedVariance, ms: performance.now() - started };
}
