// The head map's layout: every head one point, placed from a head distance matrix — classical
// MDS (the PCA of the double-centred squared distances: the points whose Euclidean distances
// best match the given ones) or UMAP over the heads' nearest neighbours by that distance,
// started from the MDS layout — centred and scaled into the unit ball.
import type { HeadDistances } from '../analysis/headSimilarity';
import { fitToUnitBall } from '../projection/fit';
import type { Knn } from '../projection/knn';
import { symmetricEigen } from '../projection/pca';
import { UmapLayout } from '../projection/umap';

export type HeadMapMethod = 'pca' | 'umap';

/** Neighbours UMAP links each head to (fewer for small models). */
const UMAP_NEIGHBOURS = 10;

/** Classical MDS into `dims` dimensions, [cells][dims]. */
export function classicalMds(distances: HeadDistances, dims: number): Float64Array {
  const n = distances.cells;
  const d2 = Float64Array.from(distances.values, (v) => v * v);
  const rowMean = new Float64Array(n);
  let mean = 0;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) rowMean[i] += d2[i * n + j] / n;
    mean += rowMean[i] / n;
  }
  const b = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) b[i * n + j] = -0.5 * (d2[i * n + j] - rowMean[i] - rowMean[j] + mean);
  const { values, vectors } = symmetricEigen(b, n);
  const out = new Float64Array(n * dims);
  for (let c = 0; c < Math.min(dims, n); c++) {
    const s = Math.sqrt(Math.max(0, values[c]));
    for (let i = 0; i < n; i++) out[i * dims + c] = vectors[c * n + i] * s;
  }
  return out;
}

/** Each head's nearest heads by the distance (itself first), for UMAP. */
function knnOf(distances: HeadDistances, k: number): Knn {
  const n = distances.cells;
  const indices = new Int32Array(n * k);
  const out = new Float32Array(n * k);
  for (let i = 0; i < n; i++) {
    const order = Array.from({ length: n }, (_, j) => j).sort((a, b) =>
      a === i ? -1 : b === i ? 1 : distances.values[i * n + a] - distances.values[i * n + b] || a - b,
    );
    for (let j = 0; j < k; j++) {
      indices[i * k + j] = order[j];
      out[i * k + j] = distances.values[i * n + order[j]];
    }
  }
  return { n, k, indices, distances: out };
}

export function headMapLayout(distances: HeadDistances, method: HeadMapMethod, dims: 2 | 3, seed = 42): Float32Array {
  const mds = classicalMds(distances, dims);
  let coords: Float32Array;
  if (method === 'umap' && distances.cells > 3) {
    // UMAP's initial layout spans ±10, as umap-js's own random start does.
    const init = Float64Array.from(mds);
    let max = 0;
    for (const v of init) max = Math.max(max, Math.abs(v));
    for (let i = 0; i < init.length; i++) init[i] = max > 0 ? (init[i] / max) * 10 : 0;
    const layout = new UmapLayout(knnOf(distances, Math.min(UMAP_NEIGHBOURS, distances.cells)), { dims, seed, init });
    coords = Float32Array.from(layout.run());
  } else coords = Float32Array.from(mds);
  fitToUnitBall(coords, dims);
  return coords;
}
