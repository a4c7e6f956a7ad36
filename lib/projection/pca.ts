// PCA of one head's joint query/key vectors: a d×d covariance (WebAssembly, or by columns)
// and a Jacobi eigendecomposition (d is the head size, 32–64), instead of an SVD of the 2N×d
// data. Same components (up to sign) and explained variance as ml-pca's SVD; signs are fixed
// so the largest-magnitude loading of each component is positive, for repeatable layouts.
import { WasmArena, arenaBytes, wasmAvailable } from '../wasm/arena';
import { PCA_WASM_BASE64 } from '../wasm/pcaWasm';

export interface PcaResult {
  /** [n][dims] projected coordinates. */
  coords: Float32Array;
  /** [dims][d] unit eigenvectors, largest variance first. */
  components: Float64Array;
  /** Fraction of total variance explained by each component. */
  explainedVariance: Float64Array;
}

/** Jacobi sweeps stop once off-diagonal mass is this small relative to the diagonal. */
const JACOBI_TOLERANCE = 1e-14;
const JACOBI_MAX_SWEEPS = 100;

/** Eigenvalues (descending) and eigenvectors (rows) of a symmetric d×d matrix. */
export function symmetricEigen(matrix: Float64Array, d: number): { values: Float64Array; vectors: Float64Array } {
  const a = Float64Array.from(matrix);
  const v = new Float64Array(d * d);
  for (let i = 0; i < d; i++) v[i * d + i] = 1;
  for (let sweep = 0; sweep < JACOBI_MAX_SWEEPS; sweep++) {
    let off = 0;
    let diag = 0;
    for (let i = 0; i < d; i++) {
      diag += a[i * d + i] ** 2;
      for (let j = i + 1; j < d; j++) off += a[i * d + j] ** 2;
    }
    if (off <= JACOBI_TOLERANCE * diag || off === 0) break;
    for (let p = 0; p < d; p++) {
      for (let q = p + 1; q < d; q++) {
        const apq = a[p * d + q];
        if (Math.abs(apq) < 1e-300) continue;
        const theta = (a[q * d + q] - a[p * d + p]) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let k = 0; k < d; k++) {
          const akp = a[k * d + p];
          const akq = a[k * d + q];
          a[k * d + p] = c * akp - s * akq;
          a[k * d + q] = s * akp + c * akq;
        }
        for (let k = 0; k < d; k++) {
          const apk = a[p * d + k];
          const aqk = a[q * d + k];
          a[p * d + k] = c * apk - s * aqk;
          a[q * d + k] = s * apk + c * aqk;
        }
        for (let k = 0; k < d; k++) {
          const vkp = v[k * d + p];
          const vkq = v[k * d + q];
          v[k * d + p] = c * vkp - s * vkq;
          v[k * d + q] = s * vkp + c * vkq;
        }
      }
    }
  }
  const order = Array.from({ length: d }, (_, i) => i).sort((x, y) => a[y * d + y] - a[x * d + x]);
  const values = Float64Array.from(order, (i) => a[i * d + i]);
  const vectors = new Float64Array(d * d);
  order.forEach((col, r) => {
    for (let k = 0; k < d; k++) vectors[r * d + k] = v[k * d + col];
  });
  return { values, vectors };
}

/** Σ a[i]·b[i] over n, four products a step. */
function dot(a: Float64Array, b: Float64Array, n: number): number {
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  let i = 0;
  for (; i + 3 < n; i += 4) {
    s0 += a[i] * b[i];
    s1 += a[i + 1] * b[i + 1];
    s2 += a[i + 2] * b[i + 2];
    s3 += a[i + 3] * b[i + 3];
  }
  for (; i < n; i++) s0 += a[i] * b[i];
  return s0 + s1 + (s2 + s3);
}

interface PcaExports {
  covariance(x: number, n: number, d: number, mean: number, row: number, out: number): void;
  project(x: number, n: number, d: number, mean: number, components: number, dims: number, coords: number): void;
}

/** The data in a WebAssembly instance: its covariance summed row by row (f64x2), and its projection. */
class PcaMemory {
  private readonly arena: WasmArena<PcaExports>;
  private readonly at: number[];

  constructor(
    points: Float32Array,
    private readonly n: number,
    private readonly d: number,
    mean: Float64Array,
    dims: number,
  ) {
    const sizes = [points.byteLength, d * 8, (d + 1) * 8, d * d * 8, dims * d * 8, n * dims * 4];
    this.arena = new WasmArena<PcaExports>(PCA_WASM_BASE64, arenaBytes(sizes));
    this.at = sizes.map((b) => this.arena.alloc(b));
    this.arena.f32(this.at[0], points.length).set(points);
    this.arena.f64(this.at[1], d).set(mean);
  }

  covariance(): Float64Array {
    const [x, mean, row, out] = this.at;
    this.arena.exports.covariance(x, this.n, this.d, mean, row, out);
    return Float64Array.from(this.arena.f64(out, this.d * this.d), (v) => v / (this.n - 1));
  }

  project(components: Float64Array, dims: number): Float32Array {
    const [x, mean, , , w, coords] = this.at;
    this.arena.f64(w, dims * this.d).set(components);
    this.arena.exports.project(x, this.n, this.d, mean, w, dims, coords);
    return Float32Array.from(this.arena.f32(coords, this.n * dims));
  }
}

/**
 * PCA of n points in d dimensions (row-major) to `dims` components. The covariance is summed
 * row by row in WebAssembly where it runs; else the centred data is held by column, so every
 * covariance entry and every projected coordinate is a contiguous pass.
 */
export function pca(points: Float32Array, n: number, d: number, dims: number): PcaResult {
  const mean = new Float64Array(d);
  for (let i = 0; i < n; i++) for (let k = 0; k < d; k++) mean[k] += points[i * d + k];
  for (let k = 0; k < d; k++) mean[k] /= n;
  const wasm = wasmAvailable(PCA_WASM_BASE64) ? new PcaMemory(points, n, d, mean, dims) : undefined;
  const columns = wasm ? [] : Array.from({ length: d }, () => new Float64Array(n));
  let cov: Float64Array;
  if (wasm) cov = wasm.covariance();
  else {
    for (let i = 0; i < n; i++) for (let k = 0; k < d; k++) columns[k][i] = points[i * d + k] - mean[k];
    cov = new Float64Array(d * d);
    for (let p = 0; p < d; p++) {
      for (let q = p; q < d; q++) {
        cov[p * d + q] = dot(columns[p], columns[q], n) / (n - 1);
        cov[q * d + p] = cov[p * d + q];
      }
    }
  }
  const { values, vectors } = symmetricEigen(cov, d);
  const total = values.reduce((s, x) => s + Math.max(0, x), 0);
  const components = vectors.slice(0, dims * d);
  for (let c = 0; c < dims; c++) {
    let big = 0;
    for (let k = 0; k < d; k++) if (Math.abs(components[c * d + k]) > Math.abs(components[c * d + big])) big = k;
    if (components[c * d + big] < 0) for (let k = 0; k < d; k++) components[c * d + k] = -components[c * d + k];
  }
  let coords: Float32Array;
  if (wasm) coords = wasm.project(components, dims);
  else {
    coords = new Float32Array(n * dims);
    const axis = new Float64Array(n);
    for (let c = 0; c < dims; c++) {
      axis.fill(0);
      for (let k = 0; k < d; k++) {
        const w = components[c * d + k];
        const col = columns[k];
        for (let i = 0; i < n; i++) axis[i] += w * col[i];
      }
      for (let i = 0; i < n; i++) coords[i * dims + c] = axis[i];
    }
  }
  const explainedVariance = Float64Array.from(values, (x) => (total > 0 ? Math.max(0, x) / total : 0));
  return { coords, components, explainedVariance };
}
