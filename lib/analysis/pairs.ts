// Per-head statistics over every (query, key) pair of the same sentence, computed once from
// the raw vectors, so that any normalization (translation t, scale c) is scored without
// touching the vectors again:
//   q' · k' = q·k + q·t,   ‖q' − k'‖² = c²‖q‖² + ‖k + t‖²/c² − 2 (q·k + q·t).
// One pass over the pairs scores one normalization (every figure at once); the attention
// check and the attention-only figures are one more. The squared distances summed over the
// attended pairs and over chance pairs are closed-form in (α, c) from a few sums kept here
// (squaredTerms), which is what the optimized normalization searches.
import { seededRandom } from '../util/random';
import { ANALYSIS_WASM_BASE64 } from '../wasm/analysisWasm';
import { WasmArena, arenaBytes, wasmAvailable } from '../wasm/arena';
import { leastSquares } from './scatter';
import type { HeadNormalization } from './normalize';

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
  /** Largest |softmax(q·k·scale) − model attention| over the pairs checked. */
  maxAbsError: number;
  /** Largest error relative to the attention value, over weights ≥ 1e-3. */
  maxRelError: number;
}

/**
 * The sums that make the mean squared distance of attended pairs and of chance pairs
 * closed-form in the translation α·t0 (t0 = mean Q − mean K) and the scale c:
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

/** Seed of the random key drawn for each query, which sets the chance level of distances. */
const RANDOM_PAIRS_SEED = 1234;

/** Sentences shorter than this give a trivial (±1) per-query correlation and are skipped. */
const MIN_KEYS_FOR_CORRELATION = 3;

/** Attention weights at least this large count in the relative error. */
const REL_ERROR_FLOOR = 1e-3;

/**
 * Where the model's attention is softmax(q·k·scale) over a sentence, q_i·k_j = ln A_ij / scale
 * + C_i, with C_i set by one exact dot product per query (its most-attended key): one log a
 * pair instead of a dot product. A second exact dot product per query (its least-attended key
 * above LOG_FLOOR) confirms the relation; if any disagrees (another scale, a bias the model
 * adds), the head's dot products are all computed exactly. Weights below the floor are
 * computed exactly too (float32 loses precision there).
 */
const LOG_FLOOR = 1e-30;
/** How far a derived dot product may be from the exact one, relative to the logits' size. */
const DERIVED_TOLERANCE = 1e-4;
/** The attention check recomputes every CHECK_EVERY-th query row of a head exactly. */
export const CHECK_EVERY = 8;

/** wasm/analysis.ts: the passes over the pairs, as this file's JavaScript computes them. */
interface AnalysisExports {
  pairDots(
    S: number,
    starts: number,
    blocks: number,
    q: number,
    k: number,
    dim: number,
    att: number,
    qk: number,
    keyWeight: number,
    rowWeight: number,
    argmaxKey: number,
    n: number,
    scale: number,
    causal: number,
    exactAt: number,
    out: number,
  ): number;
  figuresPass(
    S: number,
    starts: number,
    blocks: number,
    qk: number,
    att: number,
    keyTerm: number,
    qq: number,
    qt: number,
    argmaxKey: number,
    randomKey: number,
    qkRandom: number,
    c2: number,
    minKeys: number,
    causal: number,
    out: number,
  ): void;
  attentionCheck(
    S: number,
    starts: number,
    blocks: number,
    q: number,
    k: number,
    dim: number,
    att: number,
    scale: number,
    every: number,
    causal: number,
    logits: number,
    out: number,
  ): void;
}

/** One head's arrays in a WebAssembly instance: the kernels' inputs are copied in once, their outputs are these views. */
class PairsMemory {
  readonly arena: WasmArena<AnalysisExports>;
  readonly at: Record<
    | 'q'
    | 'k'
    | 'att'
    | 'qk'
    | 'keyWeight'
    | 'rowWeight'
    | 'argmaxKey'
    | 'starts'
    | 'blocks'
    | 'scratch'
    | 'out'
    | 'keyTerm'
    | 'qq'
    | 'qt'
    | 'randomKey'
    | 'qkRandom',
    number
  >;
  readonly sentences: number;

  constructor(q: Float32Array, k: Float32Array, attention: Float32Array, sentenceStarts: Int32Array, attentionStarts: Int32Array) {
    const tokens = sentenceStarts[sentenceStarts.length - 1];
    let longest = 0;
    for (let s = 0; s + 1 < sentenceStarts.length; s++) longest = Math.max(longest, sentenceStarts[s + 1] - sentenceStarts[s]);
    const sizes = {
      q: q.byteLength,
      k: k.byteLength,
      att: attention.byteLength,
      qk: attention.length * 8,
      keyWeight: tokens * 8,
      rowWeight: tokens * 8,
      argmaxKey: tokens * 4,
      starts: sentenceStarts.byteLength,
      blocks: attentionStarts.byteLength,
      scratch: Math.max(1, longest) * 8,
      out: 8 * 8,
      keyTerm: tokens * 8,
      qq: tokens * 8,
      qt: tokens * 8,
      randomKey: tokens * 4,
      qkRandom: tokens * 8,
    };
    const bytes = arenaBytes(Object.values(sizes));
    const spare = PairsMemory.spare;
    PairsMemory.spare = undefined;
    if (spare && spare.capacity >= bytes) spare.reset();
    this.arena = spare && spare.capacity >= bytes ? spare : new WasmArena<AnalysisExports>(ANALYSIS_WASM_BASE64, bytes);
    this.at = Object.fromEntries(Object.entries(sizes).map(([name, bytes]) => [name, this.arena.alloc(bytes)])) as PairsMemory['at'];
    this.arena.f32(this.at.q, q.length).set(q);
    this.arena.f32(this.at.k, k.length).set(k);
    this.arena.f32(this.at.att, attention.length).set(attention);
    this.arena.i32(this.at.starts, sentenceStarts.length).set(sentenceStarts);
    this.arena.i32(this.at.blocks, attentionStarts.length).set(attentionStarts);
    this.sentences = sentenceStarts.length - 1;
  }

  out(): Float64Array {
    return this.arena.f64(this.at.out, 8);
  }

  /** An arena a finished head gave back (HeadPairs.release), reused by the next if it is large enough. */
  static spare: WasmArena<AnalysisExports> | undefined;

  release(): void {
    PairsMemory.spare = this.arena;
  }
}

/** Drops the WebAssembly memory finished heads left for the next (an analysis calls this when done). */
export function releasePairsMemory(): void {
  PairsMemory.spare = undefined;
}

export interface HeadPairsOptions {
  /** The model's logit scale (1/√d): q·k are derived from the attention where it holds. */
  logitScale?: number;
  /**
   * A decoder's heads: a query's keys are its sentence's tokens up to itself (the lower
   * triangle of each block; qk past the query is not filled). Every pass and figure and the
   * attention check follow; the chance pairs stay any token's key.
   */
  causal?: boolean;
}

export class HeadPairs {
  readonly n: number;
  readonly qq: Float64Array;
  readonly kk: Float64Array;
  /** q_i·k_j for each sentence's block, laid like the attention blocks. */
  readonly qk: Float64Array;
  /** Per query: its most-attended key's row, a random key's row (any sentence), and q·k for both. */
  readonly argmaxKey: Int32Array;
  readonly randomKey: Int32Array;
  readonly qkRandom: Float64Array;
  /** Attention each key receives, Σ_i A_ij, and each query's row sum Σ_j A_ij (1 up to rounding). */
  readonly keyWeight: Float64Array;
  readonly rowWeight: Float64Array;
  /** Σ_ij A_ij q_i·k_j. */
  attendedDot = 0;
  /** Mean entropy (nats) of the model's attention rows, and mean share on a sentence's first and last token. */
  entropy = 0;
  specialShare = 0;
  /**
   * Hands this head's WebAssembly memory to the next HeadPairs (the analysis does, head after
   * head): this object's arrays must not be read afterwards.
   */
  release(): void {
    this.wasm?.release();
  }

  /** Whether the dot products were derived from the attention (else all computed). */
  derived = false;
  readonly causal: boolean;
  /** t0 = mean Q − mean K, t0·t0, q·t0 and k·t0 per token, and (Σ q)·(Σ k). */
  readonly t0: Float64Array;
  tt0 = 0;
  readonly qt0: Float64Array;
  readonly kt0: Float64Array;
  private sumsDot = 0;
  /** The head's arrays in WebAssembly memory, when the kernels can run here. */
  private readonly wasm: PairsMemory | undefined;

  constructor(
    readonly q: Float32Array,
    readonly k: Float32Array,
    readonly dim: number,
    readonly sentenceStarts: Int32Array,
    readonly attentionStarts: Int32Array,
    readonly attention: Float32Array,
    options: HeadPairsOptions = {},
  ) {
    const n = (this.n = q.length / dim);
    this.causal = options.causal ?? false;
    const wasm = (this.wasm = wasmAvailable(ANALYSIS_WASM_BASE64) ? new PairsMemory(q, k, attention, sentenceStarts, attentionStarts) : undefined);
    const f64 = (name: keyof PairsMemory['at'], length: number) => (wasm ? wasm.arena.f64(wasm.at[name], length) : new Float64Array(length));
    const i32 = (name: keyof PairsMemory['at'], length: number) => (wasm ? wasm.arena.i32(wasm.at[name], length) : new Int32Array(length));
    this.qq = f64('qq', n);
    this.kk = new Float64Array(n);
    for (let t = 0; t < n; t++) {
      this.qq[t] = dotProduct(q, t * dim, q, t * dim, dim);
      this.kk[t] = dotProduct(k, t * dim, k, t * dim, dim);
    }
    this.qk = f64('qk', attention.length);
    this.argmaxKey = i32('argmaxKey', n);
    this.randomKey = i32('randomKey', n);
    this.qkRandom = f64('qkRandom', n);
    this.keyWeight = f64('keyWeight', n);
    this.rowWeight = f64('rowWeight', n);
    const rand = seededRandom(RANDOM_PAIRS_SEED);
    for (let r = 0; r < n; r++) {
      this.randomKey[r] = Math.floor(rand() * n);
      this.qkRandom[r] = dotProduct(q, r * dim, k, this.randomKey[r] * dim, dim);
    }
    const scale = options.logitScale;
    this.derived = scale !== undefined && scale > 0 && this.pairDots(scale);
    if (!this.derived) this.pairDots(0);
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
    for (let d = 0; d < dim; d++) {
      this.t0[d] = (qSum[d] - kSum[d]) / n;
      this.sumsDot += qSum[d] * kSum[d];
      this.tt0 += this.t0[d] * this.t0[d];
    }
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
   * Fills qk and the attention sums. With scale > 0, q·k is derived from ln A (false if the
   * relation does not hold for some query); else, and for weights below LOG_FLOOR, exact.
   */
  private pairDots(scale: number): boolean {
    if (this.wasm) {
      const { arena, at, sentences } = this.wasm;
      const ok = arena.exports.pairDots(
        sentences,
        at.starts,
        at.blocks,
        at.q,
        at.k,
        this.dim,
        at.att,
        at.qk,
        at.keyWeight,
        at.rowWeight,
        at.argmaxKey,
        this.n,
        scale,
        this.causal ? 1 : 0,
        at.scratch,
        at.out,
      );
      if (!ok) return false;
      const out = this.wasm.out();
      this.attendedDot = out[0];
      this.entropy = out[1] / this.n;
      this.specialShare = out[2] / this.n;
      return true;
    }
    const { q, k, dim, attention, sentenceStarts, attentionStarts, qk, keyWeight, rowWeight, argmaxKey, causal } = this;
    keyWeight.fill(0);
    const derive = scale > 0;
    const inverse = derive ? 1 / scale : 0;
    let attendedDot = 0;
    let entropy = 0;
    let special = 0;
    const exactAt: number[] = [];
    for (let s = 0; s + 1 < sentenceStarts.length; s++) {
      const row0 = sentenceStarts[s];
      const len = sentenceStarts[s + 1] - row0;
      const block = attentionStarts[s];
      for (let i = 0; i < len; i++) {
        const qo = (row0 + i) * dim;
        const rowStart = block + i * len;
        // One pass: the row's sums, its most and least attended keys, ln A (scaled), entropy.
        let best = 0;
        let bestA = -1;
        let far = -1;
        let farA = Infinity;
        let rowSum = 0;
        let weightedLog = 0;
        exactAt.length = 0;
        const keys = causal ? i + 1 : len;
        for (let j = 0; j < keys; j++) {
          const a = attention[rowStart + j];
          rowSum += a;
          keyWeight[row0 + j] += a;
          if (a > bestA) {
            best = j;
            bestA = a;
          }
          if (a >= LOG_FLOOR && derive) {
            if (a < farA) {
              far = j;
              farA = a;
            }
            const log = Math.log(a);
            entropy -= a * log;
            const scaled = log * inverse;
            qk[rowStart + j] = scaled;
            weightedLog += a * scaled;
          } else {
            if (a > 0) entropy -= a * Math.log(a);
            exactAt.push(j);
          }
        }
        rowWeight[row0 + i] = rowSum;
        argmaxKey[row0 + i] = row0 + best;
        special += attention[rowStart] + (!causal && len > 1 ? attention[rowStart + len - 1] : 0);
        if (derive) {
          // q_i·k_j = ln A_ij / scale + C_i: C_i from the most attended key, checked on the least.
          const exact = dotProduct(q, qo, k, (row0 + best) * dim, dim);
          const offset = exact - qk[rowStart + best];
          if (far !== best) {
            const check = dotProduct(q, qo, k, (row0 + far) * dim, dim);
            if (!(Math.abs(qk[rowStart + far] + offset - check) <= DERIVED_TOLERANCE * (1 + Math.abs(check) + Math.abs(exact)))) return false;
          }
          for (let j = rowStart, end = rowStart + keys; j < end; j++) qk[j] += offset;
          attendedDot += weightedLog + offset * (rowSum - exactAt.reduce((m, j) => m + attention[rowStart + j], 0));
          qk[rowStart + best] = exact;
        }
        for (const j of exactAt) {
          const dot = dotProduct(q, qo, k, (row0 + j) * dim, dim);
          qk[rowStart + j] = dot;
          attendedDot += attention[rowStart + j] * dot;
        }
      }
    }
    this.attendedDot = attendedDot;
    this.entropy = entropy / this.n;
    this.specialShare = special / this.n;
    return true;
  }

  /** q·t and ‖k + t‖² for every token. */
  private translated(t: Float64Array): { qt: Float64Array; kkT: Float64Array } {
    const { n, dim, q, k, kk } = this;
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
    return { qt, kkT };
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
    const { qt, kkT } = this.translated(norm.translation);
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
    const { qq, qk, attention, argmaxKey, randomKey, qkRandom, sentenceStarts, attentionStarts } = this;
    const wasm = this.wasm;
    const keyTerm = wasm ? wasm.arena.f64(wasm.at.keyTerm, this.n) : new Float64Array(this.n);
    for (let r = 0; r < this.n; r++) keyTerm[r] = kkT[r] / c2;
    if (wasm) {
      const { arena, at, sentences } = wasm;
      arena.f64(at.qt, this.n).set(qt);
      arena.exports.figuresPass(
        sentences,
        at.starts,
        at.blocks,
        at.qk,
        at.att,
        at.keyTerm,
        at.qq,
        at.qt,
        at.argmaxKey,
        at.randomKey,
        at.qkRandom,
        c2,
        MIN_KEYS_FOR_CORRELATION,
        this.causal ? 1 : 0,
        at.out,
      );
      const [weighted, argmax, random, sumPlain, sumWeighted, count] = wasm.out();
      return this.withSeed(qt, kkT, {
        distance: count ? sumPlain / count : NaN,
        weighted: count ? sumWeighted / count : NaN,
        argmaxRatio: argmax / random,
        weightedRatio: weighted / random,
      });
    }
    let argmax = 0;
    let weighted = 0;
    let random = 0;
    let sumPlain = 0;
    let sumWeighted = 0;
    let count = 0;
    for (let s = 0; s + 1 < sentenceStarts.length; s++) {
      const row0 = sentenceStarts[s];
      const len = sentenceStarts[s + 1] - row0;
      const block = attentionStarts[s];
      for (let i = 0; i < len; i++) {
        const keys = this.causal ? i + 1 : len;
        const correlate = keys >= MIN_KEYS_FOR_CORRELATION;
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
          const a = attention[rowStart + j];
          const x = dot - x0;
          sx += x;
          sxx += x * x;
          sy += y;
          syy += y * y;
          sxy += x * y;
          w += a;
          wx += a * x;
          wxx += a * x * x;
          wy += a * y;
          wyy += a * y * y;
          wxy += a * x * y;
        }
        weighted += wy;
        const va = base + keyTerm[argmaxKey[qi]] - 2 * qk[rowStart + argmaxKey[qi] - row0];
        argmax += va > 0 ? Math.sqrt(va) : 0;
        const vr = base + keyTerm[randomKey[qi]] - 2 * qkRandom[qi];
        random += vr > 0 ? Math.sqrt(vr) : 0;
        if (!correlate) continue;
        const plain = pearsonFromSums(keys, sx, sxx, sy, syy, sxy);
        const weightedCorr = pearsonFromSums(w, wx, wxx, wy, wyy, wxy);
        if (Number.isFinite(plain) && Number.isFinite(weightedCorr)) {
          sumPlain += plain;
          sumWeighted += weightedCorr;
          count++;
        }
      }
    }
    return this.withSeed(qt, kkT, {
      distance: count ? sumPlain / count : NaN,
      weighted: count ? sumWeighted / count : NaN,
      argmaxRatio: argmax / random,
      weightedRatio: weighted / random,
    });
  }

  /** Adds the seed figure (each token's own query and key) to a pass's figures. */
  private withSeed(qt: Float64Array, kkT: Float64Array, figures: Omit<PairFigures, 'seed'>): PairFigures {
    const { qq, qk, sentenceStarts, attentionStarts } = this;
    const selfDot = new Float64Array(this.n);
    const cosine = new Float64Array(this.n);
    for (let s = 0; s + 1 < sentenceStarts.length; s++) {
      const row0 = sentenceStarts[s];
      const len = sentenceStarts[s + 1] - row0;
      for (let i = 0; i < len; i++) {
        const r = row0 + i;
        const dot = qk[attentionStarts[s] + i * len + i] + qt[r];
        selfDot[r] = dot;
        cosine[r] = 1 - dot / Math.sqrt(qq[r] * kkT[r]);
      }
    }
    return { seed: leastSquares(selfDot, cosine).correlation, ...figures };
  }

  /**
   * softmax(q·k·scale) from the vectors against the model's attention over the keys of every
   * CHECK_EVERY-th query row (computed here, not from qk, which may be derived from it).
   */
  attentionCheck(scale: number): AttentionCheck {
    if (this.wasm) {
      const { arena, at, sentences } = this.wasm;
      arena.exports.attentionCheck(sentences, at.starts, at.blocks, at.q, at.k, this.dim, at.att, scale, CHECK_EVERY, this.causal ? 1 : 0, at.scratch, at.out);
      const out = this.wasm.out();
      return { maxAbsError: out[0], maxRelError: out[1] };
    }
    const { q, k, dim, attention, sentenceStarts, attentionStarts } = this;
    let maxAbsError = 0;
    let maxRelError = 0;
    let longest = 0;
    for (let s = 0; s + 1 < sentenceStarts.length; s++) longest = Math.max(longest, sentenceStarts[s + 1] - sentenceStarts[s]);
    const logits = new Float64Array(longest);
    for (let s = 0; s + 1 < sentenceStarts.length; s++) {
      const row0 = sentenceStarts[s];
      const len = sentenceStarts[s + 1] - row0;
      const block = attentionStarts[s];
      for (let i = (CHECK_EVERY - (row0 % CHECK_EVERY)) % CHECK_EVERY; i < len; i += CHECK_EVERY) {
        const qo = (row0 + i) * dim;
        const keys = this.causal ? i + 1 : len;
        let max = -Infinity;
        for (let j = 0; j < keys; j++) {
          logits[j] = dotProduct(q, qo, k, (row0 + j) * dim, dim) * scale;
          if (logits[j] > max) max = logits[j];
        }
        let total = 0;
        for (let j = 0; j < keys; j++) total += logits[j] = Math.exp(logits[j] - max);
        for (let j = 0; j < len; j++) {
          const want = attention[block + i * len + j];
          // A causal row's weights past the query must be 0: its error there is the weight.
          const err = j < keys ? Math.abs(logits[j] / total - want) : Math.abs(want);
          if (err > maxAbsError) maxAbsError = err;
          if (want >= REL_ERROR_FLOOR && err / want > maxRelError) maxRelError = err / want;
        }
      }
    }
    return { maxAbsError, maxRelError };
  }
}

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
