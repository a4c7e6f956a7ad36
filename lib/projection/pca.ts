// PCA of one head's joint query/key vectors: a d×d covariance (WebAssembly, or by columns)
// and its eigendecomposition (d is the head size, 32–256), instead of an SVD of the 2N×d
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

/**
 * Eigenvalues (descending) and eigenvectors (rows) of a symmetric d×d matrix: Householder
 * reduction to tridiagonal form, then the implicit QL method (tred2/tql2, as JAMA and ml-matrix,
 * which ml-pca uses, do it) — O(d³) once, where cyclic Jacobi took several sweeps of it: 4–5×
 * faster at d = 128 (Qwen3's heads) and on the head map's matrices of hundreds of heads.
 */
export function symmetricEigen(matrix: Float64Array, d: number): { values: Float64Array; vectors: Float64Array } {
  const n = d;
  const V = Float64Array.from(matrix); // V[i * n + j]; ends with the eigenvectors as columns
  const e = new Float64Array(n);
  const w = new Float64Array(n);
  if (n === 0) return { values: w, vectors: V };
  tridiagonalize(V, w, e, n);
  implicitQl(V, w, e, n);
  const order = Array.from({ length: n }, (_, i) => i).sort((x, y) => w[y] - w[x]);
  const values = Float64Array.from(order, (i) => w[i]);
  const vectors = new Float64Array(n * n);
  order.forEach((col, r) => {
    for (let k = 0; k < n; k++) vectors[r * n + k] = V[k * n + col];
  });
  return { values, vectors };
}

/** Householder reduction of the symmetric V to tridiagonal form (diagonal d, subdiagonal e), V becoming the transformation. */
function tridiagonalize(V: Float64Array, d: Float64Array, e: Float64Array, n: number): void {
  for (let j = 0; j < n; j++) d[j] = V[(n - 1) * n + j];
  for (let i = n - 1; i > 0; i--) {
    let scale = 0;
    let h = 0;
    for (let k = 0; k < i; k++) scale += Math.abs(d[k]);
    if (scale === 0) {
      e[i] = d[i - 1];
      for (let j = 0; j < i; j++) {
        d[j] = V[(i - 1) * n + j];
        V[i * n + j] = 0;
        V[j * n + i] = 0;
      }
    } else {
      for (let k = 0; k < i; k++) {
        d[k] /= scale;
        h += d[k] * d[k];
      }
      let f = d[i - 1];
      let g = Math.sqrt(h);
      if (f > 0) g = -g;
      e[i] = scale * g;
      h -= f * g;
      d[i - 1] = f - g;
      for (let j = 0; j < i; j++) e[j] = 0;
      for (let j = 0; j < i; j++) {
        f = d[j];
        V[j * n + i] = f;
        g = e[j] + V[j * n + j] * f;
        for (let k = j + 1; k <= i - 1; k++) {
          g += V[k * n + j] * d[k];
          e[k] += V[k * n + j] * f;
        }
        e[j] = g;
      }
      f = 0;
      for (let j = 0; j < i; j++) {
        e[j] /= h;
        f += e[j] * d[j];
      }
      const hh = f / (h + h);
      for (let j = 0; j < i; j++) e[j] -= hh * d[j];
      for (let j = 0; j < i; j++) {
        f = d[j];
        g = e[j];
        for (let k = j; k <= i - 1; k++) V[k * n + j] -= f * e[k] + g * d[k];
        d[j] = V[(i - 1) * n + j];
        V[i * n + j] = 0;
      }
    }
    d[i] = h;
  }
  for (let i = 0; i < n - 1; i++) {
    V[(n - 1) * n + i] = V[i * n + i];
    V[i * n + i] = 1;
    const h = d[i + 1];
    if (h !== 0) {
      for (let k = 0; k <= i; k++) d[k] = V[k * n + i + 1] / h;
      for (let j = 0; j <= i; j++) {
        let g = 0;
        for (let k = 0; k <= i; k++) g += V[k * n + i + 1] * V[k * n + j];
        for (let k = 0; k <= i; k++) V[k * n + j] -= g * d[k];
      }
    }
    for (let k = 0; k <= i; k++) V[k * n + i + 1] = 0;
  }
  for (let j = 0; j < n; j++) {
    d[j] = V[(n - 1) * n + j];
    V[(n - 1) * n + j] = 0;
  }
  V[(n - 1) * n + n - 1] = 1;
  e[0] = 0;
}

/** The implicit QL method on the tridiagonal (d, e): d becomes the eigenvalues, V's columns the eigenvectors. */
function implicitQl(V: Float64Array, d: Float64Array, e: Float64Array, n: number): void {
  for (let i = 1; i < n; i++) e[i - 1] = e[i];
  e[n - 1] = 0;
  let f = 0;
  let tst1 = 0;
  const eps = 2 ** -52;
  for (let l = 0; l < n; l++) {
    tst1 = Math.max(tst1, Math.abs(d[l]) + Math.abs(e[l]));
    let m = l;
    while (m < n && Math.abs(e[m]) > eps * tst1) m++;
    if (m > l) {
      do {
        let g = d[l];
        let p = (d[l + 1] - g) / (2 * e[l]);
        let r = Math.hypot(p, 1);
        if (p < 0) r = -r;
        d[l] = e[l] / (p + r);
        d[l + 1] = e[l] * (p + r);
        const dl1 = d[l + 1];
        let h = g - d[l];
        for (let i = l + 2; i < n; i++) d[i] -= h;
        f += h;
        p = d[m];
        let c = 1;
        let c2 = c;
        let c3 = c;
        const el1 = e[l + 1];
        let s = 0;
        let s2 = 0;
        for (let i = m - 1; i >= l; i--) {
          c3 = c2;
          c2 = c;
          s2 = s;
          g = c * e[i];
          h = c * p;
          r = Math.hypot(p, e[i]);
          e[i + 1] = s * r;
          s = e[i] / r;
          c = p / r;
          p = c * d[i] - s * g;
          d[i + 1] = h + s * (c * g + s * d[i]);
          for (let k = 0; k < n; k++) {
            const row = k * n;
            h = V[row + i + 1];
            V[row + i + 1] = s * V[row + i] + c * h;
            V[row + i] = c * V[row + i] - s * h;
          }
        }
        p = (-s * s2 * c3 * el1 * e[l]) / dl1;
        e[l] = s * p;
        d[l] = c * p;
      } while (Math.abs(e[l]) > eps * tst1);
    }
    d[l] += f;
    e[l] = 0;
  }
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
