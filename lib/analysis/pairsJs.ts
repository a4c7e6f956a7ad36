// The passes over a head's (query, key) pairs in JavaScript: what wasm/analysis.ts computes,
// operation for operation, where WebAssembly SIMD is missing (tests compare the two).
import type { AttentionSpec } from '../data/attention';
import { dotProduct, pearsonFromSums } from './stats';

/** A head's arrays as the passes read and write them (views into WebAssembly memory, or plain arrays). */
export interface PairArrays {
  q: Float32Array;
  k: Float32Array;
  /** The vectors attention is computed from (q and k themselves unless a run holds unrotated vectors). */
  qa: Float32Array;
  ka: Float32Array;
  dim: number;
  /** The size of qa/ka's rows (the same as dim except where attention comes from other vectors). */
  dimA: number;
  sentenceStarts: Int32Array;
  pairStarts: Int32Array;
  /** q·k per pair (f64), attention per pair (f32, 0 where masked): each sentence's n×n block, rows = queries. */
  qk: Float64Array;
  att: Float32Array;
  keyWeight: Float64Array;
  rowWeight: Float64Array;
  argmaxKey: Int32Array;
  causal: boolean;
}

/** A head's arrays in plain JavaScript memory (where the WebAssembly kernels cannot run). */
export function plainPairArrays(vectors: Pick<PairArrays, 'q' | 'k' | 'qa' | 'ka' | 'dim' | 'dimA' | 'sentenceStarts' | 'pairStarts' | 'causal'>): PairArrays {
  const n = vectors.q.length / vectors.dim;
  const pairs = vectors.pairStarts[vectors.pairStarts.length - 1];
  return {
    ...vectors,
    qk: new Float64Array(pairs),
    att: new Float32Array(pairs),
    keyWeight: new Float64Array(n),
    rowWeight: new Float64Array(n),
    argmaxKey: new Int32Array(n),
  };
}

export interface PairSums {
  /** Σ_ij A_ij q_i·k_j, Σ of row entropies (nats), Σ attention on each sentence's first (and, non-causal, last) token. */
  attendedDot: number;
  entropy: number;
  special: number;
}

/** The keys a query i of a sentence of length len attends to: [first, last). */
export function keyRange(i: number, len: number, causal: boolean, window: number | undefined): [number, number] {
  const last = causal ? i + 1 : len;
  const first = window && i - window + 1 > 0 ? i - window + 1 : 0;
  return [first, last];
}

/** Fills qk, att, keyWeight, rowWeight and argmaxKey (the WebAssembly kernel's pairAttention). */
export function pairAttentionJs(a: PairArrays, spec: AttentionSpec): PairSums {
  const { q, k, qa, ka, dim, dimA, sentenceStarts, pairStarts, qk, att, keyWeight, rowWeight, argmaxKey, causal } = a;
  const same = qa === q && ka === k;
  const cap = spec.softcap ?? 0;
  keyWeight.fill(0);
  let longest = 0;
  for (let s = 0; s + 1 < sentenceStarts.length; s++) longest = Math.max(longest, sentenceStarts[s + 1] - sentenceStarts[s]);
  const logits = new Float64Array(longest);
  const sums: PairSums = { attendedDot: 0, entropy: 0, special: 0 };
  for (let s = 0; s + 1 < sentenceStarts.length; s++) {
    const row0 = sentenceStarts[s];
    const len = sentenceStarts[s + 1] - row0;
    const block = pairStarts[s];
    for (let i = 0; i < len; i++) {
      const rowStart = block + i * len;
      const qo = (row0 + i) * dim;
      const [first, last] = keyRange(i, len, causal, spec.window);
      let max = -Infinity;
      for (let j = first; j < last; j++) {
        const d = dotProduct(q, qo, k, (row0 + j) * dim, dim);
        qk[rowStart + j] = d;
        let z = (same ? d : dotProduct(qa, (row0 + i) * dimA, ka, (row0 + j) * dimA, dimA)) * spec.scale;
        if (cap > 0) z = cap * Math.tanh(z / cap);
        logits[j] = z;
        if (z > max) max = z;
      }
      for (let j = 0; j < first; j++) qk[rowStart + j] = dotProduct(q, qo, k, (row0 + j) * dim, dim);
      // −Σ a ln a = max + ln Σe − Σ e·z / Σe: the row's entropy without a logarithm a pair.
      let total = 0;
      let ez = 0;
      for (let j = first; j < last; j++) {
        const z = logits[j];
        const e = Math.exp(z - max);
        logits[j] = e;
        total += e;
        ez += e * z;
      }
      const inverse = 1 / total;
      sums.entropy += max + Math.log(total) - ez * inverse;
      let rowSum = 0;
      let best = first;
      let bestA = -1;
      for (let j = 0; j < len; j++) {
        att[rowStart + j] = j >= first && j < last ? logits[j] * inverse : 0;
        if (j >= last) {
          qk[rowStart + j] = 0;
          continue;
        }
        const w = att[rowStart + j];
        rowSum += w;
        keyWeight[row0 + j] += w;
        sums.attendedDot += w * qk[rowStart + j];
        if (w > bestA) {
          best = j;
          bestA = w;
        }
      }
      rowWeight[row0 + i] = rowSum;
      argmaxKey[row0 + i] = row0 + best;
      sums.special += att[rowStart] + (!causal && len > 1 ? att[rowStart + len - 1] : 0);
    }
  }
  return sums;
}

/** What one normalization's pass over the pairs sums (the WebAssembly kernel's figuresPass out[0..6)). */
export interface FigureSums {
  weighted: number;
  argmax: number;
  random: number;
  sumPlain: number;
  sumWeighted: number;
  count: number;
}

/**
 * One normalization's pass: for every query, Pearson's correlation of q·k with ‖q − k‖ over its
 * keys (plain and attention-weighted), its attention-weighted distance, its distance to its most
 * attended key and to a random key. keyTerm = ‖k + t‖²/c², qt = q·t, qq = ‖q‖², c2 = c².
 */
export function figuresPassJs(
  a: PairArrays,
  keyTerm: Float64Array,
  qq: Float64Array,
  qt: Float64Array,
  randomKey: Int32Array,
  qkRandom: Float64Array,
  c2: number,
  minKeys: number,
): FigureSums {
  const { qk, att, argmaxKey, sentenceStarts, pairStarts, causal } = a;
  const out: FigureSums = { weighted: 0, argmax: 0, random: 0, sumPlain: 0, sumWeighted: 0, count: 0 };
  for (let s = 0; s + 1 < sentenceStarts.length; s++) {
    const row0 = sentenceStarts[s];
    const len = sentenceStarts[s + 1] - row0;
    const block = pairStarts[s];
    for (let i = 0; i < len; i++) {
      const keys = causal ? i + 1 : len;
      const qi = row0 + i;
      const base = c2 * qq[qi] - 2 * qt[qi];
      const rowStart = block + i * len;
      // Pearson sums, x = q·k shifted by the row's first value (for precision), y = distance.
      const x0 = qk[rowStart];
      let sx = 0,
        sxx = 0,
        sy = 0,
        syy = 0,
        sxy = 0;
      let w = 0,
        wx = 0,
        wxx = 0,
        wy = 0,
        wyy = 0,
        wxy = 0;
      for (let j = 0; j < keys; j++) {
        const dot = qk[rowStart + j];
        const v = base + keyTerm[row0 + j] - 2 * dot;
        const y = v > 0 ? Math.sqrt(v) : 0;
        const p = att[rowStart + j];
        const x = dot - x0;
        sx += x;
        sxx += x * x;
        sy += y;
        syy += y * y;
        sxy += x * y;
        w += p;
        wx += p * x;
        wxx += p * x * x;
        wy += p * y;
        wyy += p * y * y;
        wxy += p * x * y;
      }
      out.weighted += wy;
      const va = base + keyTerm[argmaxKey[qi]] - 2 * qk[rowStart + argmaxKey[qi] - row0];
      out.argmax += va > 0 ? Math.sqrt(va) : 0;
      const vr = base + keyTerm[randomKey[qi]] - 2 * qkRandom[qi];
      out.random += vr > 0 ? Math.sqrt(vr) : 0;
      if (keys < minKeys) continue;
      const plain = pearsonFromSums(keys, sx, sxx, sy, syy, sxy);
      const weightedCorr = pearsonFromSums(w, wx, wxx, wy, wyy, wxy);
      if (Number.isFinite(plain) && Number.isFinite(weightedCorr)) {
        out.sumPlain += plain;
        out.sumWeighted += weightedCorr;
        out.count++;
      }
    }
  }
  return out;
}
