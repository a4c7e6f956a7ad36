// Runs a tokenized corpus through the model in length-sorted, padded batches and gathers
// every layer's and head's query and key vectors and attention blocks into flat arrays.
import { throwIfAborted } from '../util/cancel';
import { ATTENTION_MASK, INPUT_IDS, TOKEN_TYPE_IDS, attentionOutput, keyOutput, keyPreOutput, queryOutput, queryPreOutput } from '../model/outputs';
import { type CorpusLayout, type ModelShape, type QueryKeyData, type RotaryVectors, corpusLayout } from './layout';
import { BATCH_ATTENTION_BUDGET, BATCH_TOKEN_BUDGET, MAX_BATCH_SENTENCES } from './limits';
import type { Feeds, ModelRunner } from './runtime';
import type { TokenizedCorpus } from './tokens';

export interface ExtractProgress {
  sentences: number;
  tokens: number;
  totalSentences: number;
  totalTokens: number;
}

export interface ExtractOptions {
  signal?: AbortSignal;
  onProgress?: (p: ExtractProgress) => void;
  padId?: number;
  /** Sentences per call at most (tests use 1 to compare against batching). */
  maxBatch?: number;
  /** Awaited after each batch: a worker yields here so a cancel message can arrive. */
  afterBatch?: () => Promise<void>;
  /** A rotary model's vectors to keep: after the rotation (default, what attention uses) or before it. */
  rotary?: RotaryVectors;
}

/** Groups sentence indices into batches of similar length within the call budgets. */
export function planBatches(lengths: readonly number[], maxBatch = MAX_BATCH_SENTENCES): number[][] {
  const order = lengths.map((_, i) => i).sort((a, b) => lengths[b] - lengths[a] || a - b);
  const batches: number[][] = [];
  let current: number[] = [];
  let width = 0;
  for (const s of order) {
    const n = lengths[s];
    if (current.length) {
      const w = Math.max(width, n);
      const size = current.length + 1;
      if (size > maxBatch || size * w > BATCH_TOKEN_BUDGET || size * w * w > BATCH_ATTENTION_BUDGET) {
        batches.push(current);
        current = [];
        width = 0;
      }
    }
    current.push(s);
    width = Math.max(width, n);
  }
  if (current.length) batches.push(current);
  return batches;
}

/** Right-padded input tensors for one batch of sentences, and the padded length; only `inputs` when given (a decoder has no token types). */
export function batchFeeds(corpus: TokenizedCorpus, batch: readonly number[], padId = 0, inputs?: readonly string[]): { feeds: Feeds; seq: number } {
  const seq = Math.max(...batch.map((s) => corpus.sentences[s].ids.length));
  const ids = new BigInt64Array(batch.length * seq);
  const mask = new BigInt64Array(batch.length * seq);
  const pad = BigInt(padId);
  batch.forEach((s, b) => {
    const sentence = corpus.sentences[s].ids;
    for (let t = 0; t < seq; t++) {
      ids[b * seq + t] = t < sentence.length ? BigInt(sentence[t]) : pad;
      mask[b * seq + t] = t < sentence.length ? 1n : 0n;
    }
  });
  const dims = [batch.length, seq];
  const feeds: Feeds = { [INPUT_IDS]: { data: ids, dims }, [ATTENTION_MASK]: { data: mask, dims } };
  if (!inputs || inputs.includes(TOKEN_TYPE_IDS)) feeds[TOKEN_TYPE_IDS] = { data: new BigInt64Array(ids.length), dims };
  return { seq, feeds };
}

/**
 * Copies one layer's batch outputs into the corpus-wide arrays: Q/K rows [b, t, h·D..] to
 * [l, h, row, ..] by index loops (a head's row is only D values; with grouped keys, query head
 * h takes key head ⌊h / group⌋'s row), attention rows [b, h, i, 0..n)
 * to each sentence's block by TypedArray.set (element by element this was a third of a
 * long-sentence extraction in Node).
 */
function scatterLayer(
  q: Float32Array,
  k: Float32Array,
  a: Float32Array,
  l: number,
  batch: readonly number[],
  seq: number,
  layout: CorpusLayout,
  shape: ModelShape,
  queries: Float32Array,
  keys: Float32Array,
  attention: Float32Array,
): void {
  const { heads: NH, headDim: D } = shape;
  const KV = shape.kvHeads ?? NH;
  const group = NH / KV;
  const N = layout.tokenCount;
  const S = layout.attentionSize;
  for (let b = 0; b < batch.length; b++) {
    const s = batch[b];
    const row0 = layout.sentenceStarts[s];
    const n = layout.sentenceStarts[s + 1] - row0;
    for (let t = 0; t < n; t++) {
      const qRow = (b * seq + t) * NH * D;
      const kRow = (b * seq + t) * KV * D;
      for (let h = 0; h < NH; h++) {
        const dst = ((l * NH + h) * N + row0 + t) * D;
        const qFrom = qRow + h * D;
        const kFrom = kRow + Math.floor(h / group) * D;
        for (let d = 0; d < D; d++) {
          queries[dst + d] = q[qFrom + d];
          keys[dst + d] = k[kFrom + d];
        }
      }
    }
    const block = layout.attentionStarts[s];
    for (let h = 0; h < NH; h++) {
      const base = (l * NH + h) * S + block;
      for (let i = 0; i < n; i++) {
        const from = ((b * NH + h) * seq + i) * seq;
        const to = base + i * n;
        attention.set(a.subarray(from, from + n), to);
      }
    }
  }
}

export async function extractQueryKeys(
  runner: ModelRunner,
  model: string,
  shape: ModelShape,
  corpus: TokenizedCorpus,
  options: ExtractOptions = {},
): Promise<QueryKeyData> {
  const { layers: L, heads: NH, headDim: D } = shape;
  const lengths = corpus.sentences.map((s) => s.ids.length);
  const layout = corpusLayout(lengths);
  const N = layout.tokenCount;
  const S = layout.attentionSize;
  const queries = new Float32Array(L * NH * N * D);
  const keys = new Float32Array(L * NH * N * D);
  const attention = new Float32Array(L * NH * S);
  const pre = options.rotary === 'pre';
  const [qName, kName] = pre ? [queryPreOutput, keyPreOutput] : [queryOutput, keyOutput];
  const outputs: string[] = [];
  for (let l = 0; l < L; l++) outputs.push(qName(l), kName(l), attentionOutput(l));
  const progress: ExtractProgress = { sentences: 0, tokens: 0, totalSentences: lengths.length, totalTokens: N };

  // Batches run one after another: submitting the next batch before copying this one out
  // was measured slower on 2 cores (the copy then competes with the model's threads).
  for (const batch of planBatches(lengths, options.maxBatch)) {
    throwIfAborted(options.signal);
    const { feeds, seq } = batchFeeds(corpus, batch, options.padId, runner.inputNames);
    const result = await runner.run(feeds, outputs);
    throwIfAborted(options.signal);
    for (let l = 0; l < L; l++) {
      scatterLayer(result[qName(l)], result[kName(l)], result[attentionOutput(l)], l, batch, seq, layout, shape, queries, keys, attention);
    }
    progress.sentences += batch.length;
    progress.tokens += batch.reduce((sum, s) => sum + lengths[s], 0);
    options.onProgress?.({ ...progress });
    await options.afterBatch?.();
  }

  return {
    model,
    layers: L,
    heads: NH,
    headDim: D,
    kvHeads: shape.kvHeads ?? NH,
    causal: shape.causal ?? false,
    ...(options.rotary ? { rotary: options.rotary } : {}),
    tokenCount: N,
    sentences: corpus.sentences,
    sentenceStarts: layout.sentenceStarts,
    attentionStarts: layout.attentionStarts,
    queries,
    keys,
    attention,
  };
}
