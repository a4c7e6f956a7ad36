// What a run of a corpus costs before it starts — tokens after splitting long sentences, the
// longest, the query–key pairs the analysis scores, the memory it needs — and whether it is
// refused, with the numbers, instead of crashing the tab half-way. The corpus card and the
// model worker take these figures from here, so the card says what the run will decide.
import { partLengths } from '../corpus/tokenize';
import { type ModelShape, kvHeadsOf } from '../data/layout';
import { MAX_RESULT_BYTES, MAX_SENTENCES, WINDOW_BYTES } from '../engine/limits';
import { formatBytes, formatCount } from '../util/format';

export interface MemoryEstimate {
  bytes: number;
  breakdown: { queriesKeys: number; working: number; layouts: number };
}

/** Threads whose head working sets are in memory at once (the model worker and one analysis helper). */
const PARALLEL_HEADS = 2;
/** Bytes a head's analysis holds per token (norms, weights, sums, random pairs) and per query–key pair (q·k in f64, attention in f32). */
const HEAD_BYTES_PER_TOKEN = 100;
const HEAD_BYTES_PER_PAIR = 12;

/**
 * Raw Q and K (keys per key head; a rotary run of unrotated vectors holds the rotated ones
 * too), the working sets of the heads analysed at once (a head's pairs: q·k and the
 * attention recomputed from them), an extraction window, and the first views' PCA layouts.
 * Attention is not held: it is recomputed per head. Checked by bench/memory.ts.
 */
export function estimateRunBytes(shape: ModelShape & { rotaryPre?: boolean }, lengths: readonly number[]): MemoryEstimate {
  const cells = shape.layers * shape.heads;
  const tokens = lengths.reduce((a, b) => a + b, 0);
  const squares = lengths.reduce((a, n) => a + n * n, 0);
  const queriesKeys = shape.layers * (shape.heads + kvHeadsOf(shape)) * tokens * shape.headDim * 4 * (shape.rotaryPre ? 2 : 1);
  const working = PARALLEL_HEADS * (HEAD_BYTES_PER_PAIR * squares + HEAD_BYTES_PER_TOKEN * tokens) + Math.min(WINDOW_BYTES, queriesKeys);
  // Two views of every head (PCA 3D, and the next one asked for), [2N][3] floats each.
  const layouts = 2 * cells * 2 * tokens * 3 * 4;
  return { bytes: queriesKeys + working + layouts, breakdown: { queriesKeys, working, layouts } };
}

export class CorpusTooLargeError extends Error {}

/** Why a corpus of this many sentences cannot run; null when it can. */
export function sentenceCountRefusal(sentences: number): string | null {
  if (sentences <= MAX_SENTENCES) return null;
  return `This corpus has ${formatCount(sentences)} sentences; QKViz takes at most ${formatCount(MAX_SENTENCES)} per run.`;
}

/** Why a corpus of these sentence lengths (as read: long sentences split) cannot run, with the numbers; null when it fits. */
export function memoryRefusal(shape: ModelShape, lengths: readonly number[], limit = MAX_RESULT_BYTES): string | null {
  const estimate = estimateRunBytes(shape, lengths);
  if (estimate.bytes <= limit) return null;
  const tokens = lengths.reduce((a, b) => a + b, 0);
  const fit = Math.floor((tokens * limit) / estimate.bytes);
  return (
    `This corpus (${formatCount(lengths.length)} sentences, ${formatCount(tokens)} tokens) would need about ` +
    `${formatBytes(estimate.bytes)} for ${shape.layers} × ${shape.heads} heads, over the ${formatBytes(limit)} a browser tab can safely hold. ` +
    `Use at most about ${formatCount(fit)} tokens.`
  );
}

export function assertFitsMemory(shape: ModelShape, lengths: readonly number[], limit = MAX_RESULT_BYTES): MemoryEstimate {
  const refusal = memoryRefusal(shape, lengths, limit);
  if (refusal) throw new CorpusTooLargeError(refusal);
  return estimateRunBytes(shape, lengths);
}

export interface CorpusFacts {
  sentences: number;
  /** Tokens as read (a split sentence's parts each carry their own special tokens). */
  tokens: number;
  longest: number;
  /** Sentences over the model's limit, which are split into parts. */
  overLimit: number;
  /** Query–key pairs the analysis scores: Σ n² over the parts, times the heads. */
  headPairs: number;
  memory: MemoryEstimate;
  /** Why a run would be refused, with the numbers; null when it can run. */
  refusal: string | null;
}

/** The corpus card's figures from each sentence's token count (before splitting). */
export function corpusFacts(lengths: ArrayLike<number>, shape: ModelShape & { maxTokens: number }): CorpusFacts {
  const parts: number[] = [];
  let longest = 0;
  let overLimit = 0;
  for (let i = 0; i < lengths.length; i++) {
    longest = Math.max(longest, lengths[i]);
    if (lengths[i] > shape.maxTokens) overLimit++;
    parts.push(...partLengths(lengths[i], shape.maxTokens));
  }
  return {
    sentences: lengths.length,
    tokens: parts.reduce((a, b) => a + b, 0),
    longest,
    overLimit,
    headPairs: parts.reduce((a, n) => a + n * n, 0) * shape.layers * shape.heads,
    memory: estimateRunBytes(shape, parts),
    refusal: sentenceCountRefusal(lengths.length) ?? memoryRefusal(shape, parts),
  };
}
