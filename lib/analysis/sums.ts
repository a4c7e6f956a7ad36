// What one head's analysis gathers as its rows arrive, window by window while the model runs:
// one pass over each window's pairs (q·k and the attention recomputed from them, pairsWasm.ts)
// leaves the attention-weighted sums the optimized normalization is closed-form in
// (objective.ts), the attention figures (entropy, share on special tokens), the check against
// the model's attention on sampled sentences, and the moments every PCA view is made from
// (lib/projection/pcaMoments.ts). A sentence never spans two windows, so the sums are exact.
// At the end one pass over the head's keys gives the paper scale; then every mode's
// normalization follows without touching the pairs again.
import type { AttentionSpec } from '../data/attention';
import { corpusLayout } from '../data/layout';
import type { AttentionFigures } from './metrics';
import { Moments } from './moments';
import { type HeadNormalization, NORMALIZATION_MODES, type NormalizationMode } from './normalize';
import type { SquaredTerms } from './objective';
import { optimizedAlong } from './optimize';
import type { AttentionCheck } from './pairs';
import { type PairArrays, pairAttentionJs, plainPairArrays } from './pairsJs';
import { PairsMemory, pairsWasmAvailable } from './pairsWasm';
import { dotProduct } from './stats';

/** Attention weights at least this large count in the check's relative error. */
const REL_ERROR_FLOOR = 1e-3;

/** One head's rows of one window: [row][dim] views, and the window's sentences (rows relative to the window). */
export interface HeadRows {
  q: Float32Array;
  k: Float32Array;
  /** The vectors attention is computed from, when q/k are not those (a rotary run of unrotated vectors). */
  qa?: Float32Array;
  ka?: Float32Array;
  /** The rows' value norms ‖f(x_j)‖ in this head, when the run has them. */
  vn?: Float32Array;
  sentenceStarts: Int32Array;
}

/** The model's attention for some sentences of a window: their index in the window's sentences, and their n×n blocks end to end. */
export interface WindowSample {
  sentences: number[];
  values: Float32Array;
}

export interface FinishedHead {
  params: Record<NormalizationMode, HeadNormalization>;
  attention: AttentionFigures;
  check: AttentionCheck;
  /** Raw moments of the queries and keys (every PCA view's input). */
  moments: { q: Moments; k: Moments };
}

export class HeadSums {
  n = 0;
  mass = 0;
  qq = 0;
  qqR = 0;
  kk = 0;
  kkW = 0;
  qkA = 0;
  qNorm = 0;
  entropy = 0;
  special = 0;
  /** Σ over rows of the first/last token's share of Σ_j α_ij·‖f(x_j)‖; NaN until a window brings value norms. */
  valueSpecial = NaN;
  readonly sRq: Float64Array;
  readonly sWk: Float64Array;
  readonly q: Moments;
  readonly k: Moments;
  private maxAbs = NaN;
  private maxRel = NaN;

  /** An image run's share on its special tokens ([CLS], registers): Σ over rows of their attention. */
  private imageSpecial = 0;

  /** `specials`: an image run's leading special tokens, whose share the special figures count (else a sentence's first and last token). */
  constructor(
    readonly dim: number,
    readonly spec: AttentionSpec,
    readonly causal: boolean,
    readonly specials = 0,
  ) {
    this.sRq = new Float64Array(dim);
    this.sWk = new Float64Array(dim);
    this.q = new Moments(dim);
    this.k = new Moments(dim);
  }

  /** Adds a window's rows of this head (and checks its sampled sentences against the model's attention). */
  add(rows: HeadRows, sample?: WindowSample): void {
    const { dim } = this;
    const { q, k, sentenceStarts } = rows;
    const qa = rows.qa ?? q;
    const ka = rows.ka ?? k;
    const n = q.length / dim;
    if (!n) return;
    const pairStarts = corpusLayout(Int32Array.from({ length: sentenceStarts.length - 1 }, (_, s) => sentenceStarts[s + 1] - sentenceStarts[s])).pairStarts;
    let memory: PairsMemory | undefined;
    let arrays: PairArrays;
    let sums;
    if (pairsWasmAvailable()) {
      memory = new PairsMemory(q, k, qa, ka, dim, dim, sentenceStarts, pairStarts, this.causal);
      arrays = memory.arrays;
      sums = memory.pairAttention(this.spec);
    } else {
      arrays = plainPairArrays({ q, k, qa, ka, dim, dimA: dim, sentenceStarts, pairStarts, causal: this.causal });
      sums = pairAttentionJs(arrays, this.spec);
    }
    this.qkA += sums.attendedDot;
    this.entropy += sums.entropy;
    this.special += sums.special;
    const { keyWeight, rowWeight, att } = arrays;
    if (memory) {
      const t = memory.tokenSums();
      this.qq += t.qq;
      this.qqR += t.qqR;
      this.kk += t.kk;
      this.kkW += t.kkW;
      this.qNorm += t.qNorm;
      for (let d = 0; d < dim; d++) {
        this.sRq[d] += t.sRq[d];
        this.sWk[d] += t.sWk[d];
      }
    } else {
      for (let r = 0; r < n; r++) {
        const o = r * dim;
        const qq = dotProduct(q, o, q, o, dim);
        const kk = dotProduct(k, o, k, o, dim);
        const R = rowWeight[r];
        const W = keyWeight[r];
        this.qq += qq;
        this.qqR += R * qq;
        this.kk += kk;
        this.kkW += W * kk;
        this.qNorm += Math.sqrt(qq);
        for (let d = 0; d < dim; d++) {
          this.sRq[d] += R * q[o + d];
          this.sWk[d] += W * k[o + d];
        }
      }
    }
    for (let r = 0; r < n; r++) this.mass += rowWeight[r];
    if (rows.vn)
      this.valueSpecial =
        (Number.isNaN(this.valueSpecial) ? 0 : this.valueSpecial) + valueSpecialShares(att, rows.vn, sentenceStarts, pairStarts, this.causal, this.specials);
    if (this.specials) this.imageSpecial += leadingShares(att, sentenceStarts, pairStarts, this.specials);
    if (sample?.sentences.length) {
      let at = 0;
      if (Number.isNaN(this.maxAbs)) this.maxAbs = this.maxRel = 0;
      for (const s of sample.sentences) {
        const len = sentenceStarts[s + 1] - sentenceStarts[s];
        for (let p = 0; p < len * len; p++, at++) {
          const want = sample.values[at];
          const err = Math.abs(att[pairStarts[s] + p] - want);
          if (err > this.maxAbs) this.maxAbs = err;
          if (want >= REL_ERROR_FLOOR && err / want > this.maxRel) this.maxRel = err / want;
        }
      }
    }
    memory?.release();
    this.q.add(q);
    this.k.add(k);
    this.n += n;
  }

  /** t0 = mean Q − mean K. */
  t0(): Float64Array {
    return Float64Array.from(this.q.sum, (s, d) => (s - this.k.sum[d]) / this.n);
  }

  /** The closed-form sums of the squared-distance ratio, for translations along t0. */
  squaredTerms(): SquaredTerms {
    const t0 = this.t0();
    const dot = (a: Float64Array, b: Float64Array) => a.reduce((s, v, i) => s + v * b[i], 0);
    return {
      n: this.n,
      mass: this.mass,
      qq: this.qq,
      qqR: this.qqR,
      kk: this.kk,
      kkW: this.kkW,
      qkA: this.qkA,
      qk: dot(this.q.sum, this.k.sum),
      qt0: dot(this.q.sum, t0),
      qt0R: dot(this.sRq, t0),
      kt0: dot(this.k.sum, t0),
      kt0W: dot(this.sWk, t0),
      tt: dot(t0, t0),
    };
  }

  /**
   * Every mode's normalization, given the head's keys ([token][dim], all of them) for the
   * paper's scale √(mean ‖k + t0‖ / mean ‖q‖) — the one figure that needs a second pass.
   */
  finish(keys: Float32Array): FinishedHead {
    const { dim } = this;
    const t0 = this.t0();
    let kNorm = 0;
    for (let r = 0, n = keys.length / dim; r < n; r++) {
      let s = 0;
      for (let d = 0, o = r * dim; d < dim; d++) s += (keys[o + d] + t0[d]) ** 2;
      kNorm += Math.sqrt(s);
    }
    const paper = this.qNorm > 0 ? Math.sqrt(kNorm / this.qNorm) : 1;
    const optimized = optimizedAlong(this.squaredTerms());
    const along: Record<NormalizationMode, { alpha: number; scale: number }> = { raw: { alpha: 0, scale: 1 }, paper: { alpha: 1, scale: paper }, optimized };
    const params = Object.fromEntries(NORMALIZATION_MODES.map((m) => [m, { translation: t0.map((v) => v * along[m].alpha), scale: along[m].scale }])) as Record<
      NormalizationMode,
      HeadNormalization
    >;
    return {
      params,
      attention: {
        entropy: this.entropy / this.n,
        specialShare: (this.specials ? this.imageSpecial : this.special) / this.n,
        valueSpecialShare: this.valueSpecial / this.n,
      },
      check: { maxAbsError: this.maxAbs, maxRelError: this.maxRel },
      moments: { q: this.q, k: this.k },
    };
  }
}

/**
 * Σ over a window's rows of the share of the row's Σ_j α_ij·‖f(x_j)‖ (Kobayashi et al.'s
 * norm of what the head moves from each key) that comes from the sentence's first token, and
 * its last for an encoder ([CLS]/[SEP]): the attention share, weighted by what attention moves.
 */
export function valueSpecialShares(
  att: ArrayLike<number>,
  vn: Float32Array,
  sentenceStarts: Int32Array,
  pairStarts: Int32Array,
  causal: boolean,
  specials = 0,
): number {
  let total = 0;
  for (let s = 0; s + 1 < sentenceStarts.length; s++) {
    const first = sentenceStarts[s];
    const len = sentenceStarts[s + 1] - first;
    for (let i = 0; i < len; i++) {
      const row = pairStarts[s] + i * len;
      let sum = 0;
      for (let j = 0; j < len; j++) sum += att[row + j] * vn[first + j];
      if (!(sum > 0)) continue;
      let special = 0;
      if (specials) for (let j = 0; j < Math.min(specials, len); j++) special += att[row + j] * vn[first + j];
      else special = att[row] * vn[first] + (!causal && len > 1 ? att[row + len - 1] * vn[first + len - 1] : 0);
      total += special / sum;
    }
  }
  return total;
}

/** Σ over a window's rows of the attention on each image's leading `specials` tokens ([CLS], registers). */
export function leadingShares(att: ArrayLike<number>, sentenceStarts: Int32Array, pairStarts: Int32Array, specials: number): number {
  let total = 0;
  for (let s = 0; s + 1 < sentenceStarts.length; s++) {
    const len = sentenceStarts[s + 1] - sentenceStarts[s];
    for (let i = 0; i < len; i++) for (let j = 0; j < Math.min(specials, len); j++) total += att[pairStarts[s] + i * len + j];
  }
  return total;
}
