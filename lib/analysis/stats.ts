// Small numerical helpers the analysis passes share: a float32 dot product summed in float64,
// Pearson's correlation from running (weighted) sums, and a least-squares line.

/** a[ao…ao+n) · b[bo…bo+n), four products a step. */
export function dotProduct(a: Float32Array, ao: number, b: Float32Array, bo: number, n: number): number {
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  let d = 0;
  for (; d + 3 < n; d += 4) {
    s0 += a[ao + d] * b[bo + d];
    s1 += a[ao + d + 1] * b[bo + d + 1];
    s2 += a[ao + d + 2] * b[bo + d + 2];
    s3 += a[ao + d + 3] * b[bo + d + 3];
  }
  for (; d < n; d++) s0 += a[ao + d] * b[bo + d];
  return s0 + s1 + (s2 + s3);
}

/** Pearson correlation from (weighted) sums of x, x², y, y², xy; NaN when either is constant. */
export function pearsonFromSums(w: number, sx: number, sxx: number, sy: number, syy: number, sxy: number): number {
  if (w <= 0) return NaN;
  const vx = sxx - (sx * sx) / w;
  const vy = syy - (sy * sy) / w;
  const cov = sxy - (sx * sy) / w;
  return vx > 0 && vy > 0 ? cov / Math.sqrt(vx * vy) : NaN;
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
