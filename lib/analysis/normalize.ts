// Query/key normalization (AttentionViz §5.1.1), per head. Both moves leave every
// attention row unchanged: translating keys by t adds q·t to all logits of a query, and
// scaling q by c and k by 1/c keeps every q·k. Modes: raw, paper (t = mean Q − mean K,
// c = √(mean‖k‖ / mean‖q‖) after translation, using means), optimized (t = α·(mean Q −
// mean K) and c searched per head to bring attended keys closest to their queries).
//
// Why not maximise the per-query (attention-weighted) correlation of q·k with distance?
// Measured on all-MiniLM-L6-v2, it improves monotonically as c grows — every one of the 72
// heads ran to the search bound — because once keys shrink to a dot, each query's distances
// are a linear function of its dot products: correlation −1, and a layout in which every
// key sits in one spot (attended pairs no closer than chance). The objective used here, the
// mean squared distance of attended pairs relative to chance pairs, tends to 1 in both
// degenerate limits, so its optimum is a layout a person can read; and it is closed-form in
// (α, c) from a few sums per head (pairs.ts, SquaredTerms), so the search costs nothing next
// to the one pass that scores the result. The paper's full translation often moves attended
// keys away in the unprojected space (measured: it helps 4 of 72 heads), so the search also
// picks how much of it to apply.
import { type QueryKeyData, headOffset, headVectors } from '../engine/layout';
import { type HeadPairs, squaredRatio } from './pairs';

export type NormalizationMode = 'raw' | 'paper' | 'optimized';
export const NORMALIZATION_MODES: NormalizationMode[] = ['raw', 'paper', 'optimized'];

/** k' = (k + translation) / scale, q' = q · scale. */
export interface HeadNormalization {
  translation: Float64Array;
  scale: number;
}

/** How far the optimized search may move c from the balanced value, as a factor: far
 * enough for every head measured (optima sit well inside), near enough that both clouds
 * stay on screen. */
export const OPTIMIZE_SCALE_RANGE = 8;
/** The search: a grid over α ∈ [0, 1] and log c, then alternating golden-section steps on each. */
const OPTIMIZE_ALPHAS = 21;
const OPTIMIZE_GRID = 161;
const OPTIMIZE_REFINE_ROUNDS = 3;
const OPTIMIZE_REFINE_STEPS = 30;

export const identityNormalization = (dim: number): HeadNormalization => ({ translation: new Float64Array(dim), scale: 1 });

/** The paper's closed form for one head ([token][dim] views). */
export function paperNormalization(q: Float32Array, k: Float32Array, dim: number): HeadNormalization {
  const n = q.length / dim;
  const translation = new Float64Array(dim);
  for (let t = 0; t < n; t++) for (let d = 0; d < dim; d++) translation[d] += (q[t * dim + d] - k[t * dim + d]) / n;
  let qNorm = 0;
  let kNorm = 0;
  for (let t = 0; t < n; t++) {
    let qq = 0;
    let kk = 0;
    for (let d = 0; d < dim; d++) {
      qq += q[t * dim + d] ** 2;
      kk += (k[t * dim + d] + translation[d]) ** 2;
    }
    qNorm += Math.sqrt(qq) / n;
    kNorm += Math.sqrt(kk) / n;
  }
  return { translation, scale: qNorm > 0 ? Math.sqrt(kNorm / qNorm) : 1 };
}

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
 * of attended pairs over that of chance pairs (closed-form, so every evaluation is O(1)).
 */
export function optimizedNormalization(pairs: HeadPairs): HeadNormalization {
  const { alpha, scale } = optimizedAlong(pairs);
  return { translation: pairs.t0.map((v) => v * alpha), scale };
}

export function optimizedAlong(pairs: HeadPairs): Along {
  const terms = pairs.squaredTerms();
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

/** Writes normalized copies of one head's vectors into outQ/outK (same layout; Float64Array for exact checks). */
export function applyNormalization(
  q: Float32Array,
  k: Float32Array,
  dim: number,
  norm: HeadNormalization,
  outQ: Float32Array | Float64Array,
  outK: Float32Array | Float64Array,
): void {
  const c = norm.scale;
  for (let i = 0; i < q.length; i++) {
    outQ[i] = q[i] * c;
    outK[i] = (k[i] + norm.translation[i % dim]) / c;
  }
}

export interface NormalizedData {
  queries: Float32Array;
  keys: Float32Array;
}

/** Applies one normalization per head (index layer * heads + head) to a whole extraction. */
export function normalizeAll(data: QueryKeyData, params: readonly HeadNormalization[]): NormalizedData {
  const queries = new Float32Array(data.queries.length);
  const keys = new Float32Array(data.keys.length);
  for (let l = 0; l < data.layers; l++) {
    for (let h = 0; h < data.heads; h++) {
      const { q, k } = headVectors(data, l, h);
      const offset = headOffset(data, data.tokenCount, l, h);
      const end = offset + q.length;
      applyNormalization(q, k, data.headDim, params[l * data.heads + h], queries.subarray(offset, end), keys.subarray(offset, end));
    }
  }
  return { queries, keys };
}

/** One mode's normalization for every head (index layer * heads + head). */
export function normalizationsFor(data: QueryKeyData, mode: NormalizationMode, pairsOf: (layer: number, head: number) => HeadPairs): HeadNormalization[] {
  const out: HeadNormalization[] = [];
  for (let l = 0; l < data.layers; l++) {
    for (let h = 0; h < data.heads; h++) {
      const { q, k } = headVectors(data, l, h);
      out.push(
        mode === 'raw'
          ? identityNormalization(data.headDim)
          : mode === 'paper'
            ? paperNormalization(q, k, data.headDim)
            : optimizedNormalization(pairsOf(l, h)),
      );
    }
  }
  return out;
}
