// Per-head statistics over every (query, key) pair of the same sentence, computed once
// from the raw vectors, so any normalization (translation t, scale c) can be scored in
// O(pairs) without touching the vectors again:
//   q' · k' = q·k + q·t,   ‖q' − k'‖² = c²‖q‖² + ‖k + t‖²/c² − 2 (q·k + q·t).
import { seededRandom } from '../util/random';
import type { HeadNormalization } from './normalize';

export interface PairCorrelations {
  /** Mean over queries of Pearson(q·k_j, ‖q − k_j‖) over the keys of its sentence. */
  distance: number;
  /** The same with weights A_ij. */
  weighted: number;
}

export interface DistanceRatios {
  /** Mean ‖q − k_argmax‖ over mean ‖q − k_random‖ (the seed's "mean distance", relative to chance). */
  argmax: number;
  /** Mean attention-weighted distance Σ_j A_ij ‖q_i − k_j‖ over mean ‖q − k_random‖. */
  weighted: number;
}

/** Seed of the random key drawn for each query, which sets the chance level of distances. */
const RANDOM_PAIRS_SEED = 1234;

/** Sentences shorter than this give a trivial (±1) per-query correlation and are skipped. */
const MIN_KEYS_FOR_CORRELATION = 3;

export class HeadPairs {
  readonly qq: Float64Array;
  readonly kk: Float64Array;
  /** q_i·k_j for each sentence's block, laid like the attention blocks. */
  readonly qk: Float64Array;
  /** Per query: its most-attended key's row, a random key's row (any sentence), and q·k for both. */
  readonly argmaxKey: Int32Array;
  readonly randomKey: Int32Array;
  readonly qkRandom: Float64Array;

  constructor(
    readonly q: Float32Array,
    readonly k: Float32Array,
    readonly dim: number,
    readonly sentenceStarts: Int32Array,
    readonly attentionStarts: Int32Array,
    readonly attention: Float32Array,
  ) {
    const n = q.length / dim;
    this.qq = new Float64Array(n);
    this.kk = new Float64Array(n);
    for (let t = 0; t < n; t++) {
      let a = 0;
      let b = 0;
      for (let d = 0; d < dim; d++) {
        a += q[t * dim + d] ** 2;
        b += k[t * dim + d] ** 2;
      }
      this.qq[t] = a;
      this.kk[t] = b;
    }
    this.qk = new Float64Array(attention.length);
    for (let s = 0; s + 1 < sentenceStarts.length; s++) {
      const row0 = sentenceStarts[s];
      const len = sentenceStarts[s + 1] - row0;
      const block = attentionStarts[s];
      for (let i = 0; i < len; i++) {
        for (let j = 0; j < len; j++) {
          let dot = 0;
          for (let d = 0; d < dim; d++) dot += q[(row0 + i) * dim + d] * k[(row0 + j) * dim + d];
          this.qk[block + i * len + j] = dot;
        }
      }
    }
    this.argmaxKey = new Int32Array(n);
    this.randomKey = new Int32Array(n);
    this.qkRandom = new Float64Array(n);
    const rand = seededRandom(RANDOM_PAIRS_SEED);
    for (let s = 0; s + 1 < sentenceStarts.length; s++) {
      const row0 = sentenceStarts[s];
      const len = sentenceStarts[s + 1] - row0;
      const block = attentionStarts[s];
      for (let i = 0; i < len; i++) {
        let best = 0;
        for (let j = 1; j < len; j++) if (attention[block + i * len + j] > attention[block + i * len + best]) best = j;
        this.argmaxKey[row0 + i] = row0 + best;
        const r = Math.floor(rand() * n);
        this.randomKey[row0 + i] = r;
        let dot = 0;
        for (let d = 0; d < dim; d++) dot += q[(row0 + i) * dim + d] * k[r * dim + d];
        this.qkRandom[row0 + i] = dot;
      }
    }
  }

  distanceRatios(norm: HeadNormalization): DistanceRatios {
    const { qt, kkT } = this.translated(norm.translation);
    return this.ratiosFor(qt, kkT, norm.scale);
  }

  /** The paper's centroid-matching translation t0 = mean Q − mean K. */
  centroidTranslation(): Float64Array {
    const n = this.qq.length;
    const t = new Float64Array(this.dim);
    for (let r = 0; r < n; r++) for (let d = 0; d < this.dim; d++) t[d] += (this.q[r * this.dim + d] - this.k[r * this.dim + d]) / n;
    return t;
  }

  /** q·(α t) and ‖k + α t‖² for every token, in O(tokens) once q·t and k·t are known. */
  scaledTranslation(alpha: number, qt0: Float64Array, kt0: Float64Array, tt0: number): { qt: Float64Array; kkT: Float64Array } {
    const n = this.qq.length;
    const qt = new Float64Array(n);
    const kkT = new Float64Array(n);
    for (let r = 0; r < n; r++) {
      qt[r] = alpha * qt0[r];
      kkT[r] = this.kk[r] + 2 * alpha * kt0[r] + alpha * alpha * tt0;
    }
    return { qt, kkT };
  }

  /** q·t and k·t per token, and t·t. */
  projections(t: Float64Array): { qt0: Float64Array; kt0: Float64Array; tt0: number } {
    const n = this.qq.length;
    const qt0 = new Float64Array(n);
    const kt0 = new Float64Array(n);
    for (let r = 0; r < n; r++) {
      let a = 0;
      let b = 0;
      for (let d = 0; d < this.dim; d++) {
        a += this.q[r * this.dim + d] * t[d];
        b += this.k[r * this.dim + d] * t[d];
      }
      qt0[r] = a;
      kt0[r] = b;
    }
    let tt0 = 0;
    for (let d = 0; d < this.dim; d++) tt0 += t[d] * t[d];
    return { qt0, kt0, tt0 };
  }

  /** The scale that makes mean ‖q'‖ = mean ‖k'‖ for these translated key norms. */
  balancedScale(kkT: Float64Array): number {
    let qn = 0;
    let kn = 0;
    for (let r = 0; r < kkT.length; r++) {
      qn += Math.sqrt(this.qq[r]);
      kn += Math.sqrt(Math.max(0, kkT[r]));
    }
    return qn > 0 ? Math.sqrt(kn / qn) : 1;
  }

  ratiosFor(qt: Float64Array, kkT: Float64Array, scale: number): DistanceRatios {
    // The search calls this ~90 times a head: per query the constant part of ‖q' − k'‖² is
    // hoisted out of the key loop, and the argmax and random keys are handled apart.
    const c2 = scale * scale;
    const { qq, qk, attention, argmaxKey, randomKey, qkRandom } = this;
    let argmax = 0;
    let weighted = 0;
    let random = 0;
    for (let s = 0; s + 1 < this.sentenceStarts.length; s++) {
      const row0 = this.sentenceStarts[s];
      const len = this.sentenceStarts[s + 1] - row0;
      const block = this.attentionStarts[s];
      for (let i = 0; i < len; i++) {
        const qi = row0 + i;
        const base = c2 * qq[qi] - 2 * qt[qi];
        const rowStart = block + i * len;
        for (let j = 0; j < len; j++) {
          const v = base + kkT[row0 + j] / c2 - 2 * qk[rowStart + j];
          weighted += attention[rowStart + j] * Math.sqrt(v > 0 ? v : 0);
        }
        const a = argmaxKey[qi] - row0;
        const va = base + kkT[argmaxKey[qi]] / c2 - 2 * qk[rowStart + a];
        argmax += Math.sqrt(va > 0 ? va : 0);
        const r = randomKey[qi];
        const vr = base + kkT[r] / c2 - 2 * qkRandom[qi];
        random += Math.sqrt(vr > 0 ? vr : 0);
      }
    }
    return { argmax: argmax / random, weighted: weighted / random };
  }

  /** q_i·t and ‖k_j + t‖² for a translation. */
  private translated(t: Float64Array): { qt: Float64Array; kkT: Float64Array } {
    const { qt0, kt0, tt0 } = this.projections(t);
    return this.scaledTranslation(1, qt0, kt0, tt0);
  }

  correlations(norm: HeadNormalization): PairCorrelations {
    const { qt, kkT } = this.translated(norm.translation);
    const c2 = norm.scale * norm.scale;
    let sumPlain = 0;
    let sumWeighted = 0;
    let count = 0;
    const dist = new Float64Array(this.maxLength());
    for (let s = 0; s + 1 < this.sentenceStarts.length; s++) {
      const row0 = this.sentenceStarts[s];
      const len = this.sentenceStarts[s + 1] - row0;
      if (len < MIN_KEYS_FOR_CORRELATION) continue;
      const block = this.attentionStarts[s];
      for (let i = 0; i < len; i++) {
        const qi = row0 + i;
        for (let j = 0; j < len; j++) {
          const dot = this.qk[block + i * len + j] + qt[qi];
          dist[j] = Math.sqrt(Math.max(0, c2 * this.qq[qi] + kkT[row0 + j] / c2 - 2 * dot));
        }
        const plain = pearson(this.qk, block + i * len, dist, len, null, 0);
        const weighted = pearson(this.qk, block + i * len, dist, len, this.attention, block + i * len);
        if (Number.isFinite(plain) && Number.isFinite(weighted)) {
          sumPlain += plain;
          sumWeighted += weighted;
          count++;
        }
      }
    }
    return { distance: count ? sumPlain / count : NaN, weighted: count ? sumWeighted / count : NaN };
  }

  private maxLength(): number {
    let m = 0;
    for (let s = 0; s + 1 < this.sentenceStarts.length; s++) m = Math.max(m, this.sentenceStarts[s + 1] - this.sentenceStarts[s]);
    return m;
  }
}

/** (Weighted) Pearson correlation of x[xo..xo+n) and y[0..n); NaN when either is constant. */
export function pearson(x: Float64Array, xo: number, y: Float64Array, n: number, w: Float32Array | null, wo: number): number {
  let sw = 0;
  let mx = 0;
  let my = 0;
  for (let j = 0; j < n; j++) {
    const wj = w ? w[wo + j] : 1;
    sw += wj;
    mx += wj * x[xo + j];
    my += wj * y[j];
  }
  if (sw <= 0) return NaN;
  mx /= sw;
  my /= sw;
  let cov = 0;
  let vx = 0;
  let vy = 0;
  for (let j = 0; j < n; j++) {
    const wj = w ? w[wo + j] : 1;
    const dx = x[xo + j] - mx;
    const dy = y[j] - my;
    cov += wj * dx * dy;
    vx += wj * dx * dx;
    vy += wj * dy * dy;
  }
  return vx > 0 && vy > 0 ? cov / Math.sqrt(vx * vy) : NaN;
}
