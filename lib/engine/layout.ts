// The shape of an extraction result: queries and keys as flat Float32Arrays laid out
// [layer][head][token][dim] over the whole corpus, and attention as each sentence's
// [n, n] row-major block laid end to end per head ([layer][head][Σ n²]).
import type { TokenizedSentence } from './tokens';

export interface ModelShape {
  layers: number;
  /** Query heads. */
  heads: number;
  headDim: number;
  /** Key heads the graph outputs (grouped-query attention); absent = heads. */
  kvHeads?: number;
  /** A decoder: a query's keys are the tokens up to it; attention is 0 past the query. */
  causal?: boolean;
}

/** Which of a rotary model's vectors a run holds: after the rotation (what attention uses) or before. */
export type RotaryVectors = 'post' | 'pre';

export interface QueryKeyData extends ModelShape {
  /** A rotary model's run: whether it holds the vectors after the rotation or before it. */
  rotary?: RotaryVectors;
  model: string;
  tokenCount: number;
  sentences: TokenizedSentence[];
  /** Token rows: sentence s spans rows [sentenceStarts[s], sentenceStarts[s + 1]). */
  sentenceStarts: Int32Array;
  /** Attention: sentence s's block starts at attentionStarts[s] within a head's Σ n² values. */
  attentionStarts: Int32Array;
  queries: Float32Array;
  /**
   * Per query head: with grouped keys, a group's key vectors repeat for each of its query
   * heads, so every head has N queries and N keys.
   */
  keys: Float32Array;
  attention: Float32Array;
}

export interface CorpusLayout {
  sentenceStarts: Int32Array;
  attentionStarts: Int32Array;
  tokenCount: number;
  attentionSize: number;
}

export function corpusLayout(lengths: readonly number[]): CorpusLayout {
  const sentenceStarts = new Int32Array(lengths.length + 1);
  const attentionStarts = new Int32Array(lengths.length + 1);
  lengths.forEach((n, s) => {
    sentenceStarts[s + 1] = sentenceStarts[s] + n;
    attentionStarts[s + 1] = attentionStarts[s] + n * n;
  });
  return { sentenceStarts, attentionStarts, tokenCount: sentenceStarts[lengths.length], attentionSize: attentionStarts[lengths.length] };
}

/** Offset of (layer, head)'s first token row in queries/keys. */
export function headOffset(shape: ModelShape, tokenCount: number, layer: number, head: number): number {
  return (layer * shape.heads + head) * tokenCount * shape.headDim;
}

/** One head's queries and keys ([token][dim]) as views, no copy. */
export function headVectors(data: QueryKeyData, layer: number, head: number): { q: Float32Array; k: Float32Array } {
  const start = headOffset(data, data.tokenCount, layer, head);
  const end = start + data.tokenCount * data.headDim;
  return { q: data.queries.subarray(start, end), k: data.keys.subarray(start, end) };
}

/** One head's attention blocks (Σ n² values) as a view. */
export function headAttention(data: QueryKeyData, layer: number, head: number): Float32Array {
  const size = data.attentionStarts[data.sentences.length];
  const start = (layer * data.heads + head) * size;
  return data.attention.subarray(start, start + size);
}

/**
 * Whether a run holds its queries, keys and attention. A bundle opened "views only" (its
 * vectors are not in it, or do not fit a tab) has layouts, figures and tokens without them.
 */
export const hasVectors = (data: QueryKeyData): boolean => data.queries.length > 0 && data.attention.length > 0;
