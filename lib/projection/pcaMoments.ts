// PCA of a head from its moments: Σq, Σqqᵀ, Σk, Σkkᵀ of the raw queries and keys, summed as
// rows arrive (window by window during a run, or all at once). The covariance of the head's
// joint cloud under any normalization — queries scaled by c, keys translated by t and scaled
// by 1/c — follows from them in O(d²), so every mode and both dimensions share one pass over
// the vectors, and a run has its sums before its last batch is in:
//   μ = (c·Σq + (Σk + n·t)/c) / 2n
//   Σxxᵀ = c²·Σqqᵀ + (Σkkᵀ + Σk tᵀ + t Σkᵀ + n·t tᵀ)/c²,  cov = (Σxxᵀ − 2n·μμᵀ) / (2n − 1).
// The components are those of lib/projection/pca.ts (same eigen solver, same sign rule); the
// projection of the rows onto them is one more pass.
import { Moments } from '../analysis/moments';
import type { HeadNormalization } from '../analysis/normalize';
import { PCA_WASM_BASE64 } from '../wasm/pcaWasm';
import { WasmArena, arenaBytes, wasmAvailable } from '../wasm/arena';
import { fitToUnitBall } from './fit';
import { symmetricEigen } from './pca';

interface ProjectExports {
  project(x: number, n: number, d: number, mean: number, components: number, dims: number, coords: number): void;
}

/** One WebAssembly instance per thread, grown to the largest block of rows seen. */
let arena: WasmArena<ProjectExports> | undefined;
function kernels(bytes: number): WasmArena<ProjectExports> | undefined {
  if (!wasmAvailable(PCA_WASM_BASE64)) return undefined;
  if (!arena || arena.capacity < bytes) arena = new WasmArena<ProjectExports>(PCA_WASM_BASE64, bytes);
  arena.reset();
  return arena;
}

export interface HeadPca {
  /** The joint cloud's mean (normalized), [d]. */
  mean: Float64Array;
  /** [dims][d] unit eigenvectors, largest variance first, each with its largest-magnitude loading positive. */
  components: Float64Array;
  /** Fraction of the total variance each component explains (all d). */
  explainedVariance: Float64Array;
}

/** The PCA of a head's normalized joint cloud (queries then keys) from the moments of its raw queries and keys. */
export function pcaOfMoments(q: Moments, k: Moments, norm: HeadNormalization, dims: number): HeadPca {
  const d = q.d;
  const n = q.n;
  const c = norm.scale;
  const c2 = c * c;
  const t = norm.translation;
  const mean = new Float64Array(d);
  for (let i = 0; i < d; i++) mean[i] = (c * q.sum[i] + (k.sum[i] + k.n * t[i]) / c) / (n + k.n);
  const total = n + k.n;
  const cov = new Float64Array(d * d);
  for (let i = 0; i < d; i++) {
    for (let j = i; j < d; j++) {
      const outer = c2 * q.outer[i * d + j] + (k.outer[i * d + j] + k.sum[i] * t[j] + t[i] * k.sum[j] + k.n * t[i] * t[j]) / c2;
      cov[i * d + j] = cov[j * d + i] = (outer - total * mean[i] * mean[j]) / (total - 1);
    }
  }
  const { values, vectors } = symmetricEigen(cov, d);
  const sum = values.reduce((s, x) => s + Math.max(0, x), 0);
  const components = vectors.slice(0, dims * d);
  for (let p = 0; p < dims; p++) {
    let big = 0;
    for (let i = 0; i < d; i++) if (Math.abs(components[p * d + i]) > Math.abs(components[p * d + big])) big = i;
    if (components[p * d + big] < 0) for (let i = 0; i < d; i++) components[p * d + i] = -components[p * d + i];
  }
  return { mean, components, explainedVariance: Float64Array.from(values, (x) => (sum > 0 ? Math.max(0, x) / sum : 0)) };
}

/**
 * The head's layout: its N queries then N keys, normalized, projected on the components and
 * fitted into the unit ball ([2N][dims]). Queries: (c·q − μ)·W = (q − μ/c)·cW; keys:
 * ((k + t)/c − μ)·W = (k − (cμ − t))·W/c — each one pass over the raw rows.
 */
export function projectOnPca(q: Float32Array, k: Float32Array, d: number, norm: HeadNormalization, pca: HeadPca, dims: number): Float32Array {
  const n = q.length / d;
  const c = norm.scale;
  const coords = new Float32Array(2 * n * dims);
  const qMean = Float64Array.from(pca.mean, (m) => m / c);
  const kMean = Float64Array.from(pca.mean, (m, i) => c * m - norm.translation[i]);
  const qW = Float64Array.from(pca.components, (w) => w * c);
  const kW = Float64Array.from(pca.components, (w) => w / c);
  projectRows(q, n, d, qMean, qW, dims, coords.subarray(0, n * dims));
  projectRows(k, n, d, kMean, kW, dims, coords.subarray(n * dims));
  fitToUnitBall(coords, dims);
  return coords;
}

/** out ([n][dims]) = (x − mean)·componentsᵀ. */
function projectRows(x: Float32Array, n: number, d: number, mean: Float64Array, components: Float64Array, dims: number, out: Float32Array): void {
  const k = kernels(arenaBytes([x.byteLength, d * 8, dims * d * 8, n * dims * 4]));
  if (k) {
    const [rows, m, w, coords] = [k.alloc(x.byteLength), k.alloc(d * 8), k.alloc(dims * d * 8), k.alloc(n * dims * 4)];
    k.f32(rows, x.length).set(x);
    k.f64(m, d).set(mean);
    k.f64(w, dims * d).set(components);
    k.exports.project(rows, n, d, m, w, dims, coords);
    out.set(k.f32(coords, n * dims));
    return;
  }
  for (let i = 0; i < n; i++) {
    for (let p = 0; p < dims; p++) {
      let s = 0;
      for (let j = 0; j < d; j++) s += components[p * d + j] * (x[i * d + j] - mean[j]);
      out[i * dims + p] = s;
    }
  }
}

/** A head's PCA layout straight from its raw queries and keys (the moments summed here in one go). */
export function headPcaLayout(
  q: Float32Array,
  k: Float32Array,
  d: number,
  norm: HeadNormalization,
  dims: number,
): { coords: Float32Array; explainedVariance: number[] } {
  const qm = new Moments(d);
  const km = new Moments(d);
  qm.add(q);
  km.add(k);
  const pca = pcaOfMoments(qm, km, norm, dims);
  return { coords: projectOnPca(q, k, d, norm, pca, dims), explainedVariance: Array.from(pca.explainedVariance.subarray(0, dims)) };
}
