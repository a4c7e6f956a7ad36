// Attention recomputed from queries and keys, as the model computes it: softmax over a
// sentence's keys of scale · q·k (soft-capped where the model caps its logits), keys past a
// decoder's query and outside a sliding window masked. Runs store Q/K, not attention: the
// views, figures and exports that need attention get it from here.
import type { AttentionSpec } from '../data/attention';
import { type QueryKeyData, attentionVectors } from '../data/layout';
import { keyRange } from './pairsJs';
import { dotProduct } from './stats';

/**
 * Query i's attention row over its sentence (rows [row0, row0 + n) of a head's [token][dim]
 * vectors) into out[0, n); masked keys get 0. `logits` is scratch of at least n.
 */
export function attentionRow(
  q: Float32Array,
  k: Float32Array,
  dim: number,
  row0: number,
  n: number,
  i: number,
  spec: AttentionSpec,
  causal: boolean,
  out: Float32Array | Float64Array,
  logits: Float64Array,
): void {
  const cap = spec.softcap ?? 0;
  const [first, last] = keyRange(i, n, causal, spec.window);
  let max = -Infinity;
  for (let j = first; j < last; j++) {
    let z = dotProduct(q, (row0 + i) * dim, k, (row0 + j) * dim, dim) * spec.scale;
    if (cap > 0) z = cap * Math.tanh(z / cap);
    logits[j] = z;
    if (z > max) max = z;
  }
  let total = 0;
  for (let j = first; j < last; j++) total += logits[j] = Math.exp(logits[j] - max);
  for (let j = 0; j < n; j++) out[j] = j >= first && j < last ? logits[j] / total : 0;
}

/** One sentence's n×n attention (rows = queries) from its rows [row0, row0 + n) of a head's [token][dim] vectors. */
export function sentenceAttention(q: Float32Array, k: Float32Array, dim: number, row0: number, n: number, spec: AttentionSpec, causal: boolean): Float32Array {
  const out = new Float32Array(n * n);
  const logits = new Float64Array(n);
  for (let i = 0; i < n; i++) attentionRow(q, k, dim, row0, n, i, spec, causal, out.subarray(i * n, (i + 1) * n), logits);
  return out;
}

/** Sentence `sentence`'s attention in head (layer, head) of a run. */
export function runSentenceAttention(data: QueryKeyData, layer: number, head: number, sentence: number): Float32Array {
  const { q, k } = attentionVectors(data, layer, head);
  const row0 = data.sentenceStarts[sentence];
  const n = data.sentenceStarts[sentence + 1] - row0;
  return sentenceAttention(q, k, data.headDim, row0, n, data.attention[layer], data.causal ?? false);
}
