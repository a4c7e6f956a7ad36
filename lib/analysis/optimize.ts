// The optimized normalization (normalize.ts explains the modes): the key translation α·t0
// and the scale c that minimise the squared-distance ratio of attended to chance pairs, a
// closed form in (α, c) from a head's sums (objective.ts, sums.ts), found by a grid and
// golden-section steps — microseconds a head.
import { type SquaredTerms, squaredRatio } from './objective';

/** How far the optimized search may move c from the balanced value, as a factor: far
 * enough for every head measured (optima sit well inside), near enough that both clouds
 * stay on screen. */
export const OPTIMIZE_SCALE_RANGE = 8;
/** The search: a grid over α ∈ [0, 1] and log c, then alternating golden-section steps on each. */
const OPTIMIZE_ALPHAS = 21;
const OPTIMIZE_GRID = 161;
const OPTIMIZE_REFINE_ROUNDS = 3;
const OPTIMIZE_REFINE_STEPS = 30;

function goldenMin(f: (x: number) => number, a: number, b: number, steps: number): { x: number; value: number } {
  const ratio = (Math.sqrt(5) - 1) / 2;
  let x1 = b - ratio * (b - a);
  let x2 = a + ratio * (b - a);
  let f1 = f(x1);
  let f2 = f(x2);
  for (let i = 0; i < steps; i++) {
    if (f1 < f2) {
      [b, x2, f2] = [x2, x1, f1];
      x1 = b - ratio * (b - a);
      f1 = f(x1);
    } else {
      [a, x1, f1] = [x1, x2, f2];
      x2 = a + ratio * (b - a);
      f2 = f(x2);
    }
  }
  return f1 < f2 ? { x: x1, value: f1 } : { x: x2, value: f2 };
}

/** A translation of the keys by α·t0 (t0 = mean Q − mean K) and the scale c. */
export interface Along {
  alpha: number;
  scale: number;
}

/**
 * Translation α·(mean Q − mean K) and scale c chosen to minimise the mean squared distance
 * of attended pairs over that of chance pairs (closed-form in the head's sums, so every
 * evaluation is O(1)).
 */
export function optimizedAlong(terms: SquaredTerms): Along {
  const ratio = (alpha: number, logC: number) => squaredRatio(terms, alpha, Math.exp(logC));
  const span = Math.log(OPTIMIZE_SCALE_RANGE);
  // Start from the raw vectors (α = 0, c = 1), so the result is never worse than raw.
  let best = { alpha: 0, logC: 0, value: ratio(0, 0) };
  for (let a = 0; a < OPTIMIZE_ALPHAS; a++) {
    const alpha = a / (OPTIMIZE_ALPHAS - 1);
    // Centred on the scale that balances the RMS norms of queries and translated keys.
    const keys = terms.kk / terms.n + (2 * alpha * terms.kt0) / terms.n + alpha * alpha * terms.tt;
    const center = terms.qq > 0 && keys > 0 ? Math.log(keys / (terms.qq / terms.n)) / 4 : 0;
    for (let i = 0; i < OPTIMIZE_GRID; i++) {
      const logC = center - span + (2 * span * i) / (OPTIMIZE_GRID - 1);
      const value = ratio(alpha, logC);
      if (value < best.value) best = { alpha, logC, value };
    }
  }
  let cStep = (2 * span) / (OPTIMIZE_GRID - 1);
  let alphaStep = 1 / (OPTIMIZE_ALPHAS - 1);
  for (let round = 0; round < OPTIMIZE_REFINE_ROUNDS; round++) {
    const c = goldenMin((x) => ratio(best.alpha, x), best.logC - cStep, best.logC + cStep, OPTIMIZE_REFINE_STEPS);
    if (c.value < best.value) best = { ...best, logC: c.x, value: c.value };
    const a = goldenMin((x) => ratio(x, best.logC), Math.max(0, best.alpha - alphaStep), Math.min(1, best.alpha + alphaStep), OPTIMIZE_REFINE_STEPS);
    if (a.value < best.value) best = { ...best, alpha: a.x, value: a.value };
    cStep /= 4;
    alphaStep /= 4;
  }
  return { alpha: best.alpha, scale: Math.exp(best.logC) };
}
