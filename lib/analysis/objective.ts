// The objective the optimized normalization minimises: the mean squared distance of attended
// (query, key) pairs over that of chance pairs, closed-form in the key translation α·t0
// (t0 = mean Q − mean K) and the scale c, from a handful of per-head sums (normalize.ts
// explains why this objective and not a correlation).

/**
 * The sums that make the mean squared distance of attended pairs and of chance pairs
 * closed-form in the translation α·t0 and the scale c:
 *   attended(α, c) = [c²·qqR + (kkW + 2α·kt0W + α²·tt·mass)/c² − 2(qkA + α·qt0R)] / mass
 *   chance(α, c)   = c²·qq/n + (kk/n + 2α·kt0/n + α²·tt)/c² − 2(qk + α·n·qt0)/n²
 * with R_i = Σ_j A_ij (a query's row, 1 up to rounding), W_j = Σ_i A_ij (what a key
 * receives), mass = Σ R_i; chance is the mean over every (query, key) pair of the corpus.
 */
export interface SquaredTerms {
  n: number;
  mass: number;
  /** Σ‖q_i‖², Σ R_i‖q_i‖², Σ‖k_j‖², Σ W_j‖k_j‖². */
  qq: number;
  qqR: number;
  kk: number;
  kkW: number;
  /** Σ_ij A_ij q_i·k_j and (Σ_i q_i)·(Σ_j k_j). */
  qkA: number;
  qk: number;
  /** (Σ q_i)·t0, (Σ R_i q_i)·t0, (Σ k_j)·t0, (Σ W_j k_j)·t0, t0·t0. */
  qt0: number;
  qt0R: number;
  kt0: number;
  kt0W: number;
  tt: number;
}

/** The attended mean squared distance over the chance one, for translation α·t0 and scale c. */
export function squaredRatio(t: SquaredTerms, alpha: number, c: number): number {
  const c2 = c * c;
  const attended = (c2 * t.qqR + (t.kkW + 2 * alpha * t.kt0W + alpha * alpha * t.tt * t.mass) / c2 - 2 * (t.qkA + alpha * t.qt0R)) / t.mass;
  const chance = (c2 * t.qq) / t.n + (t.kk / t.n + (2 * alpha * t.kt0) / t.n + alpha * alpha * t.tt) / c2 - (2 * (t.qk + alpha * t.n * t.qt0)) / (t.n * t.n);
  return chance > 0 ? attended / chance : Infinity;
}
