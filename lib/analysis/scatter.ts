// The seed notebook's picture of a head: each token's own query·key dot product against the
// cosine distance between them (after normalization), with the least-squares line through
// the cloud. The seed metric of SPEC §3 is this scatter's Pearson correlation.
import type { HeadNormalization } from './normalize';

export { type LineFit, leastSquares } from './stats';

export interface SeedScatter {
  /** q_i·k_i per token (normalized vectors). */
  dot: Float64Array;
  /** 1 − cos(q_i, k_i) per token. */
  cosineDistance: Float64Array;
}

/** From one head's raw queries and keys ([token][dim]) and a normalization. */
export function seedScatter(q: Float32Array, k: Float32Array, D: number, norm: HeadNormalization): SeedScatter {
  const n = q.length / D;
  const c = norm.scale;
  const t = norm.translation;
  const dot = new Float64Array(n);
  const cosineDistance = new Float64Array(n);
  for (let r = 0; r < n; r++) {
    let d = 0;
    let a = 0;
    let b = 0;
    for (let x = 0; x < D; x++) {
      const qn = q[r * D + x] * c;
      const kn = (k[r * D + x] + t[x]) / c;
      d += qn * kn;
      a += qn * qn;
      b += kn * kn;
    }
    dot[r] = d;
    cosineDistance[r] = 1 - d / Math.sqrt(a * b);
  }
  return { dot, cosineDistance };
}
