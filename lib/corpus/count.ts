// Token counts of a corpus as the model reads it, and what follows from them before any run:
// how many tokens after splitting long sentences, the longest, the memory a run needs, and
// whether the run would be refused (the same figures the model worker checks).
import type { PreTrainedTokenizer } from '@huggingface/transformers';
import { throwIfAborted } from '../util/cancel';
import type { ModelShape } from '../engine/layout';
import { type MemoryEstimate, estimateRunBytes, memoryRefusal, sentenceCountRefusal } from '../engine/memory';
import { partLengths } from '../engine/tokens';

/** Sentences counted between progress reports (and chances to be cancelled). */
const COUNT_CHUNK = 250;

export async function countTokens(
  tokenizer: PreTrainedTokenizer,
  sentences: readonly string[],
  options: { signal?: AbortSignal; onProgress?: (done: number, total: number) => void } = {},
): Promise<Int32Array> {
  const lengths = new Int32Array(sentences.length);
  for (let i = 0; i < sentences.length; i++) {
    lengths[i] = tokenizer.encode(sentences[i]).length;
    if ((i + 1) % COUNT_CHUNK === 0 || i === sentences.length - 1) {
      options.onProgress?.(i + 1, sentences.length);
      await new Promise((resolve) => setTimeout(resolve, 0));
      throwIfAborted(options.signal);
    }
  }
  return lengths;
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
