// Attention for the views, recomputed from Q/K: the top-k links from each query of a sentence in one
// head (drawn as lines between the query and key points), and a sentence's attention
// matrix with special tokens optionally hidden and the remaining weights renormalised.
import { runSentenceAttention } from '../analysis/attention';
import type { QueryKeyData } from '../data/layout';

/** The reference tool's link defaults: two strongest keys per query, nothing below 0.05. */
export const DEFAULT_LINK_K = 2;
export const DEFAULT_LINK_THRESHOLD = 0.05;

export interface Links {
  /** Token rows of each link's query and key, and its attention weight. */
  query: Int32Array;
  key: Int32Array;
  weight: Float32Array;
}

/** A sentence's [n, n] attention in one head (rows = queries), recomputed from its queries and keys. */
export function sentenceBlock(data: QueryKeyData, layer: number, head: number, sentence: number): Float32Array {
  return runSentenceAttention(data, layer, head, sentence);
}

/**
 * For every query of a sentence — its n×n attention `block`, its first token row `first` —
 * its k strongest keys with weight ≥ threshold (a decoder's query has keys up to itself only).
 */
export function topKLinks(block: Float32Array, n: number, first: number, causal: boolean, k: number, threshold: number): Links {
  const query: number[] = [];
  const key: number[] = [];
  const weight: number[] = [];
  const order = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const row = block.subarray(i * n, (i + 1) * n);
    const keys = causal ? i + 1 : n;
    for (let j = 0; j < keys; j++) order[j] = j;
    // Partial selection sort: k is small (the UI caps it), n is one sentence.
    const take = Math.min(k, keys);
    for (let a = 0; a < take; a++) {
      let best = a;
      for (let b = a + 1; b < keys; b++) if (row[order[b]] > row[order[best]]) best = b;
      [order[a], order[best]] = [order[best], order[a]];
      const j = order[a];
      if (row[j] < threshold) break;
      query.push(first + i);
      key.push(first + j);
      weight.push(row[j]);
    }
  }
  return { query: Int32Array.from(query), key: Int32Array.from(key), weight: Float32Array.from(weight) };
}

/** What links and the sentence view weigh: attention α_ij, or ‖α_ij·f(x_j)‖, what the head moves from j to i. */
export type LinkWeight = 'attention' | 'value';

export const LINK_WEIGHT_LABELS: Record<LinkWeight, string> = {
  attention: 'attention α',
  value: '‖α·f(x)‖ share',
};

/**
 * A sentence's block reweighed by what attention moves (Kobayashi et al. 2020): each row's
 * α_ij·‖f(x_j)‖ as a share of the row's Σ_j α_ij·‖f(x_j)‖, so rows still sum to 1 and the
 * thresholds and the sentence view read the same. `norms` are the sentence's ‖f(x_j)‖.
 */
export function valueWeightedBlock(block: Float32Array, n: number, norms: ArrayLike<number>): Float32Array {
  const out = new Float32Array(n * n);
  for (let i = 0; i < n; i++) {
    let sum = 0;
    for (let j = 0; j < n; j++) sum += block[i * n + j] * norms[j];
    if (!(sum > 0)) continue;
    for (let j = 0; j < n; j++) out[i * n + j] = (block[i * n + j] * norms[j]) / sum;
  }
  return out;
}

export interface SentenceAttention {
  /** Positions (within the sentence) of the tokens shown, in order. */
  shown: number[];
  /** [shown × shown] row-major weights. */
  weights: Float32Array;
}

/**
 * The sentence's attention restricted to the shown tokens. With special tokens hidden,
 * each row is renormalised over what remains, a'_ij = a_ij / (1 − Σ_hidden a_ih), capped
 * at 1 (a row that gave everything to hidden tokens would otherwise blow up).
 */
export function sentenceAttention(block: Float32Array, n: number, hidden: (position: number) => boolean): SentenceAttention {
  const shown: number[] = [];
  for (let i = 0; i < n; i++) if (!hidden(i)) shown.push(i);
  const m = shown.length;
  const weights = new Float32Array(m * m);
  shown.forEach((i, a) => {
    let hiddenShare = 0;
    for (let h = 0; h < n; h++) if (hidden(h)) hiddenShare += block[i * n + h];
    const scale = hiddenShare < 1 ? 1 / (1 - hiddenShare) : Infinity;
    shown.forEach((j, b) => {
      weights[a * m + b] = Math.min(1, block[i * n + j] * scale || 0);
    });
  });
  return { shown, weights };
}
