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
// (α, c) from a few sums per head (objective.ts; the search is optimize.ts), so it costs nothing next
// to the one pass that scores the result. The paper's full translation often moves attended
// keys away in the unprojected space (measured: it helps 4 of 72 heads), so the search also
// picks how much of it to apply.
import { type QueryKeyData, headVectors } from '../data/layout';

export type NormalizationMode = 'raw' | 'paper' | 'optimized';
export const NORMALIZATION_MODES: NormalizationMode[] = ['raw', 'paper', 'optimized'];

/** k' = (k + translation) / scale, q' = q · scale. */
export interface HeadNormalization {
  translation: Float64Array;
  scale: number;
}

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
  /** [layer][head][token][dim], keys per query head (a normalization is per query head). */
  queries: Float32Array;
  keys: Float32Array;
}

/** Applies one normalization per head (index layer * heads + head) to a whole extraction. */
export function normalizeAll(data: QueryKeyData, params: readonly HeadNormalization[]): NormalizedData {
  const rows = data.tokenCount * data.headDim;
  const cells = data.layers * data.heads;
  const queries = new Float32Array(cells * rows);
  const keys = new Float32Array(cells * rows);
  for (let c = 0; c < cells; c++) {
    const { q, k } = headVectors(data, Math.floor(c / data.heads), c % data.heads);
    applyNormalization(q, k, data.headDim, params[c], queries.subarray(c * rows, (c + 1) * rows), keys.subarray(c * rows, (c + 1) * rows));
  }
  return { queries, keys };
}
