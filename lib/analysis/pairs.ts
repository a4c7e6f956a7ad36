// Per-head statistics over every (query, key) pair of the same sentence, computed once from
// the raw vectors, so that any normalization (translation t, scale c) is scored without
// touching the vectors again:
//   q' · k' = q·k + q·t,   ‖q' − k'‖² = c²‖q‖² + ‖k + t‖²/c² − 2 (q·k + q·t).
// One pass computes every pair's q·k and the attention recomputed from it as the model
// computes it (softmax, its mask, scale and soft-cap); one more pass scores one
// normalization (every figure at once). The kernels are WebAssembly (pairsWasm.ts) with a
// JavaScript fallback (pairsJs.ts); the optimized normalization's objective is objective.ts.
import type { AttentionSpec } from '../data/attention';
import { corpusLayout } from '../data/layout';
import { seededRandom } from '../util/random';
import type { HeadNormalization } from './normalize';
import type { SquaredTerms } from './objective';
import { type PairArrays, figuresPassJs, pairAttentionJs, plainPairArrays } from './pairsJs';
import { PairsMemory, pairsWasmAvailable } from './pairsWasm';
import { dotProduct, leastSquares } from './stats';

export { releasePairsMemory } from './pairsWasm';

export interface PairFigures {
  /** Mean over queries of Pearson(q·k_j, ‖q − k_j‖) over the keys of its sentence. */
  distance: number;
  /** The same with weights A_ij. */
  weighted: number;
  /** Mean ‖q − k_argmax‖ over mean ‖q − k_random‖ (the seed's "mean distance", relative to chance). */
  argmaxRatio: number;
  /** Mean attention-weighted distance Σ_j A_ij ‖q_i − k_j‖ over mean ‖q − k_random‖. */
  weightedRatio: number;
  /** The seed notebook's figure: Pearson over tokens of q_i·k_i and 1 − cos(q_i, k_i). */
  seed: number;
}

export interface AttentionCheck {
  /** Largest |softmax recomputed from Q/K − the model's attention| over the sampled sentences (NaN: nothing sampled). */
  maxAbsError: number;
  /** Largest error relative to the attention value, over weights ≥ 1e-3. */
  maxRelError: number;
}

/** Seed of the random key drawn for each query, which sets the chance level of distances. */
const RANDOM_PAIRS_SEED = 1234;

/** Sentences shorter than this give a trivial (±1) per-query correlation and are skipped. */
const MIN_KEYS_FOR_CORRELATION = 3;

export interface HeadPairsOptions {
  /** How this layer computes attention from q·k. */
  spec: AttentionSpec;
  /**
   * A decoder's heads: a query's keys are its sentence's tokens up to itself (the lower
   * triangle of each block; qk past the query is not filled). Every pass and figure follow;
   * the chance pairs stay any token's key.
   */
  causal?: boolean;
  /**
   * The vectors attention is computed from, when q/k are not those: a rotary model's rotated
   * vectors for its unrotated ones, or a head's own vectors for its projected layout (`dim`:
   * their size, if not q/k's).
   */
  attentionVectors?: { q: Float32Array; k: Float32Array; dim?: number };
}

export class HeadPairs {
  readonly n: number;
  readonly qq: Float64Array;
  readonly kk: Float64Array;
  /** q_i·k_j and the recomputed attention A_ij for each sentence's block (laid out by pairStarts). */
  readonly qk: Float64Array;
  readonly att: Float32Array;
  readonly pairStarts: Int32Array;
  /** Per query: its most-attended key's row, a random key's row (any sentence), and q·k for both. */
  readonly argmaxKey: Int32Array;
  readonly randomKey: Int32Array;
  readonly qkRandom: Float64Array;
  /** Attention each key receives, Σ_i A_ij, and each query's row sum Σ_j A_ij (1 up to rounding). */
  readonly keyWeight: Float64Array;
  readonly rowWeight: Float64Array;
  /** Σ_ij A_ij q_i·k_j. */
  readonly attendedDot: number;
  /** Mean entropy (nats) of the attention rows, and mean share on a sentence's first and last token. */
  readonly entropy: number;
  readonly specialShare: number;
  readonly causal: boolean;
  /** t0 = mean Q − mean K, t0·t0, q·t0 and k·t0 per token, and (Σ q)·(Σ k). */
  readonly t0: Float64Array;
  readonly tt0: number;
  readonly qt0: Float64Array;
  readonly kt0: Float64Array;
  private readonly sumsDot: number;
  private readonly arrays: PairArrays;
  /** The head's arrays in WebAssembly memory, when the kernels can run here. */
  private readonly wasm: PairsMemory | undefined;

  constructor(
    readonly q: Float32Array,
    readonly k: Float32Array,
    readonly dim: number,
    readonly sentenceStarts: Int32Array,
    options: HeadPairsOptions,
  ) {
    const n = (this.n = q.length / dim);
    this.causal = options.causal ?? false;
    const lengths = Int32Array.from({ length: sentenceStarts.length - 1 }, (_, s) => sentenceStarts[s + 1] - sentenceStarts[s]);
    this.pairStarts = corpusLayout(lengths).pairStarts;
    const qa = options.attentionVectors?.q ?? q;
    const ka = options.attentionVectors?.k ?? k;
    const dimA = options.attentionVectors?.dim ?? dim;
    const wasm = (this.wasm = pairsWasmAvailable() ? new PairsMemory(q, k, qa, ka, dim, dimA, sentenceStarts, this.pairStarts, this.causal) : undefined);
    this.arrays = wasm?.arrays ?? plainPairArrays({ q, k, qa, ka, dim, dimA, sentenceStarts, pairStarts: this.pairStarts, causal: this.causal });
    ({ qk: this.qk, att: this.att, keyWeight: this.keyWeight, rowWeight: this.rowWeight, argmaxKey: this.argmaxKey } = this.arrays);
    this.qq = wasm ? wasm.f64('qq', n) : new Float64Array(n);
    this.kk = new Float64Array(n);
    for (let t = 0; t < n; t++) {
      this.qq[t] = dotProduct(q, t * dim, q, t * dim, dim);
      this.kk[t] = dotProduct(k, t * dim, k, t * dim, dim);
    }
    this.randomKey = wasm ? wasm.i32('randomKey', n) : new Int32Array(n);
    this.qkRandom = wasm ? wasm.f64('qkRandom', n) : new Float64Array(n);
    const rand = seededRandom(RANDOM_PAIRS_SEED);
    for (let r = 0; r < n; r++) {
      this.randomKey[r] = Math.floor(rand() * n);
      this.qkRandom[r] = dotProduct(q, r * dim, k, this.randomKey[r] * dim, dim);
    }
    const sums = wasm ? wasm.pairAttention(options.spec) : pairAttentionJs(this.arrays, options.spec);
    this.attendedDot = sums.attendedDot;
    this.entropy = sums.entropy / n;
    this.specialShare = sums.special / n;
    // The centroid translation t0 = mean Q − mean K, and q·t0, k·t0 per token: the paper and
    // optimized modes translate keys along t0, so every mode's q·t and ‖k + t‖² follow from these.
    const qSum = new Float64Array(dim);
    const kSum = new Float64Array(dim);
    for (let r = 0; r < n; r++) {
      for (let d = 0, o = r * dim; d < dim; d++) {
        qSum[d] += q[o + d];
        kSum[d] += k[o + d];
      }
    }
    this.t0 = new Float64Array(dim);
    let sumsDot = 0;
    let tt0 = 0;
    for (let d = 0; d < dim; d++) {
      this.t0[d] = (qSum[d] - kSum[d]) / n;
      sumsDot += qSum[d] * kSum[d];
      tt0 += this.t0[d] * this.t0[d];
    }
    this.sumsDot = sumsDot;
    this.tt0 = tt0;
    this.qt0 = new Float64Array(n);
    this.kt0 = new Float64Array(n);
    for (let r = 0; r < n; r++) {
      let a = 0;
      let b = 0;
      for (let d = 0, o = r * dim; d < dim; d++) {
        a += q[o + d] * this.t0[d];
        b += k[o + d] * this.t0[d];
      }
      this.qt0[r] = a;
      this.kt0[r] = b;
    }
  }

  /**
   * Hands this head's WebAssembly memory to the next HeadPairs (the analysis does, head after
   * head): this object's arrays must not be read afterwards.
   */
  release(): void {
    this.wasm?.release();
  }

  /** The closed-form sums of the squared-distance ratio, for translations along t0. */
  squaredTerms(): SquaredTerms {
    const { n, qq, kk, keyWeight, rowWeight, qt0, kt0 } = this;
    const t: SquaredTerms = {
      n,
      mass: 0,
      qq: 0,
      qqR: 0,
      kk: 0,
      kkW: 0,
      qkA: this.attendedDot,
      qk: this.sumsDot,
      qt0: 0,
      qt0R: 0,
      kt0: 0,
      kt0W: 0,
      tt: this.tt0,
    };
    for (let r = 0; r < n; r++) {
      const [R, W] = [rowWeight[r], keyWeight[r]];
      t.mass += R;
      t.qq += qq[r];
      t.qqR += R * qq[r];
      t.kk += kk[r];
      t.kkW += W * kk[r];
      t.qt0 += qt0[r];
      t.qt0R += R * qt0[r];
      t.kt0 += kt0[r];
      t.kt0W += W * kt0[r];
    }
    return t;
  }

  /** The paper's scale for the translation t0: √(mean ‖k + t0‖ / mean ‖q‖). */
  paperScale(): number {
    let qNorm = 0;
    let kNorm = 0;
    for (let r = 0; r < this.n; r++) {
      qNorm += Math.sqrt(this.qq[r]);
      kNorm += Math.sqrt(Math.max(0, this.kk[r] + 2 * this.kt0[r] + this.tt0));
    }
    return qNorm > 0 ? Math.sqrt(kNorm / qNorm) : 1;
  }

  /** Every pair figure of one normalization, in one pass over the pairs. */
  figures(norm: HeadNormalization): PairFigures {
    const { n, dim, q, k, kk } = this;
    const t = norm.translation;
    const qt = new Float64Array(n);
    const kkT = new Float64Array(n);
    let tt = 0;
    for (let d = 0; d < dim; d++) tt += t[d] * t[d];
    for (let r = 0; r < n; r++) {
      let a = 0;
      let b = 0;
      for (let d = 0, o = r * dim; d < dim; d++) {
        a += q[o + d] * t[d];
        b += k[o + d] * t[d];
      }
      qt[r] = a;
      kkT[r] = kk[r] + 2 * b + tt;
    }
    return this.figuresFor(qt, kkT, norm.scale);
  }

  /** The figures for the translation α·t0 and scale c (every mode QKViz has). */
  figuresAlong(alpha: number, scale: number): PairFigures {
    const { n, kk, qt0, kt0, tt0 } = this;
    const qt = new Float64Array(n);
    const kkT = new Float64Array(n);
    for (let r = 0; r < n; r++) {
      qt[r] = alpha * qt0[r];
      kkT[r] = kk[r] + 2 * alpha * kt0[r] + alpha * alpha * tt0;
    }
    return this.figuresFor(qt, kkT, scale);
  }

  private figuresFor(qt: Float64Array, kkT: Float64Array, scale: number): PairFigures {
    const c2 = scale * scale;
    const wasm = this.wasm;
    const keyTerm = wasm ? wasm.f64('keyTerm', this.n) : new Float64Array(this.n);
    for (let r = 0; r < this.n; r++) keyTerm[r] = kkT[r] / c2;
    let sums;
    if (wasm) {
      wasm.f64('qt', this.n).set(qt);
      sums = wasm.figuresPass(c2, MIN_KEYS_FOR_CORRELATION);
    } else sums = figuresPassJs(this.arrays, keyTerm, this.qq, qt, this.randomKey, this.qkRandom, c2, MIN_KEYS_FOR_CORRELATION);
    const { weighted, argmax, random, sumPlain, sumWeighted, count } = sums;
    return this.withSeed(qt, kkT, {
      distance: count ? sumPlain / count : NaN,
      weighted: count ? sumWeighted / count : NaN,
      argmaxRatio: argmax / random,
      weightedRatio: weighted / random,
    });
  }

  /** Adds the seed figure (each token's own query and key) to a pass's figures. */
  private withSeed(qt: Float64Array, kkT: Float64Array, figures: Omit<PairFigures, 'seed'>): PairFigures {
    const { qq, qk, sentenceStarts, pairStarts } = this;
    const selfDot = new Float64Array(this.n);
    const cosine = new Float64Array(this.n);
    for (let s = 0; s + 1 < sentenceStarts.length; s++) {
      const row0 = sentenceStarts[s];
      const len = sentenceStarts[s + 1] - row0;
      for (let i = 0; i < len; i++) {
        const r = row0 + i;
        const dot = qk[pairStarts[s] + i * len + i] + qt[r];
        selfDot[r] = dot;
        cosine[r] = 1 - dot / Math.sqrt(qq[r] * kkT[r]);
      }
    }
    return { seed: leastSquares(selfDot, cosine).correlation, ...figures };
  }
}
