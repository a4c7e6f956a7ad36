// Token counts of a corpus as the model reads it, off the page's main thread in the corpus
// worker (lib/run/plan turns them into the corpus card's figures).
import type { PreTrainedTokenizer } from '@huggingface/transformers';
import { throwIfAborted } from '../util/cancel';

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
