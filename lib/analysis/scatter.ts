// The seed notebook's picture of a head: each token's own query·key dot product against the
// cosine distance between them (after normalization), with the least-squares line through
// the cloud. The seed metric of SPEC §3 is this scatter's Pearson correlation.
import { type QueryKeyData, headVectors } from '../engine/layout';
import type { HeadNormalization } from './normalize';

export interface SeedScatter {
  /** q_i·k_i per token (normalized vectors). */
  dot: Float64Array;
  /** 1 − cos(q_i, k_i) per token. */
  cosineDistance: Float64Array;
}

export function seedScatter(data: QueryKeyData, layer: number, head: number, norm: HeadNormalization): SeedScatter {
  const D = data.headDim;
  const n = data.tokenCount;
  const { q, k } = headVectors(data, layer, head);
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

export interface LineFit {
  slope: number;
  intercept: number;
  /** Pearson correlation of x and y. */
  correlation: number;
}

/** Ordinary least squares y ≈ slope·x + intercept, in float64 with centred sums. */
export function leastSquares(x: Float64Array, y: Float64Array): LineFit {
  const n = x.length;
  let mx = 0;
  let my = 0;
  for (let i = 0; i < n; i++) {
    mx += x[i];
    my += y[i];
  }
  mx /= n;
  my /= n;
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    const dx = x[i] - mx;
    const dy = y[i] - my;
    sxy += dx * dy;
    sxx += dx * dx;
    syy += dy * dy;
  }
  const slope = sxx > 0 ? sxy / sxx : NaN;
  return { slope, intercept: my - slope * mx, correlation: sxx > 0 && syy > 0 ? sxy / Math.sqrt(sxx * syy) : NaN };
}
