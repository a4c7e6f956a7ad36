// Runs a tokenized corpus through the model and hands every layer's and head's query and key
// vectors to a sink, window by window: a window is a run of whole sentences in corpus order,
// extracted in length-sorted padded batches and then given as [cell][row][dim] blocks, so a
// store writes each head's rows of the window in one piece. The model's own attention is
// requested only for a sample of sentences spread over the corpus (what the attention
// recomputed from Q/K is checked against); attention is never stored. Each head's value norms
// ‖f_h(x_j)‖ (what weighs attention by what it moves) come with the vectors, a number a token.
import { plainAttention } from '../data/attention';
import {
  type AttentionSample,
  type ImageSpec,
  type ModelShape,
  type QueryKeyData,
  type RotaryVectors,
  corpusLayout,
  imageLayout,
  kvHeadsOf,
} from '../data/layout';
import type { AttentionSpec } from '../data/attention';
import {
  ATTENTION_MASK,
  INPUT_IDS,
  PIXEL_VALUES,
  TOKEN_TYPE_IDS,
  attentionOutput,
  keyOutput,
  keyPreOutput,
  queryOutput,
  queryPreOutput,
  valueNormOutput,
  valueOutput,
} from '../model/outputs';
import { throwIfAborted } from '../util/cancel';
import type { TokenizedCorpus } from '../corpus/tokenize';
import { ATTENTION_SAMPLE_BYTES, ATTENTION_SAMPLE_SENTENCES, BATCH_ATTENTION_BUDGET, BATCH_TOKEN_BUDGET, MAX_BATCH_SENTENCES, WINDOW_BYTES } from './limits';
import type { Feeds, ModelRunner } from './runtime';

/** What extraction needs to know of the model. */
export interface ExtractionShape extends ModelShape {
  /** How each layer computes attention (absent: softmax(q·k/√d) everywhere). */
  attention?: AttentionSpec[];
  /** A vision model: what its images are (an image corpus's run holds their layout and pictures). */
  image?: ImageSpec;
}

export interface ExtractProgress {
  sentences: number;
  tokens: number;
  totalSentences: number;
  totalTokens: number;
}

/**
 * One window of the corpus: sentences [sentenceStart, sentenceEnd), token rows
 * [rowStart, rowStart + rows). Arrays are [cell][row][dim] with cell = layer × heads + head
 * (keys: layer × kvHeads + key head); they are reused for the next window, so a sink copies
 * what it keeps before its promise resolves.
 */
export interface ExtractedWindow {
  sentenceStart: number;
  sentenceEnd: number;
  rowStart: number;
  rows: number;
  queries: Float32Array;
  keys: Float32Array;
  /** A run of unrotated vectors: the rotated ones attention is computed from. */
  rotated?: { queries: Float32Array; keys: Float32Array };
  /** Values, [key cell][row][dim], and ‖f_h(x_j)‖, [cell][row]; absent when the graph has none (converted before they existed). */
  values?: Float32Array;
  valueNorms?: Float32Array;
  /**
   * The model's attention on this window's sampled sentences: their index among the window's
   * sentences, and [cell][their n×n blocks end to end].
   */
  sampled: { sentences: number[]; values: Float32Array };
}

export type WindowSink = (window: ExtractedWindow) => void | Promise<void>;

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
  /** Sentences whose attention the model is asked for (default: sampleSentences of the corpus). */
  sample?: Int32Array;
  /** Bytes of Q/K a window holds (default WINDOW_BYTES; tests make windows small). */
  windowBytes?: number;
}

/** Groups sentence indices into batches of similar length within the call budgets. */
export function planBatches(lengths: readonly number[], maxBatch = MAX_BATCH_SENTENCES, among?: readonly number[]): number[][] {
  const order = (among ?? lengths.map((_, i) => i)).slice().sort((a, b) => lengths[b] - lengths[a] || a - b);
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

/**
 * The sentences whose attention a run asks the model for: spread evenly over the corpus, at
 * most ATTENTION_SAMPLE_SENTENCES, and no more than ATTENTION_SAMPLE_BYTES of attention over
 * every head (so a large model's sample stays small). Ascending.
 */
export function sampleSentences(lengths: readonly number[], cells: number, budget = ATTENTION_SAMPLE_BYTES): Int32Array {
  const S = lengths.length;
  const want = Math.min(S, ATTENTION_SAMPLE_SENTENCES);
  const chosen: number[] = [];
  let bytes = 0;
  for (let i = 0; i < want; i++) {
    const s = Math.floor(((i + 0.5) * S) / want);
    const cost = lengths[s] * lengths[s] * cells * 4;
    if (bytes + cost > budget) continue;
    chosen.push(s);
    bytes += cost;
  }
  // Long sentences everywhere: the shortest one, if it fits at all.
  if (!chosen.length && S) {
    let shortest = 0;
    for (let s = 1; s < S; s++) if (lengths[s] < lengths[shortest]) shortest = s;
    if (lengths[shortest] ** 2 * cells * 4 <= budget) chosen.push(shortest);
  }
  return Int32Array.from(chosen);
}

/** Right-padded input tensors for one batch of sentences, and the padded length; only `inputs` when given (a decoder has no token types). */
export function batchFeeds(corpus: TokenizedCorpus, batch: readonly number[], padId = 0, inputs?: readonly string[]): { feeds: Feeds; seq: number } {
  const seq = Math.max(...batch.map((s) => corpus.sentences[s].ids.length));
  if (corpus.pixels) {
    // Images: one size, one token count, no padding.
    const { values, height, width } = corpus.pixels;
    const size = 3 * height * width;
    const data = new Float32Array(batch.length * size);
    batch.forEach((s, b) => data.set(values[s], b * size));
    return { seq, feeds: { [PIXEL_VALUES]: { data, dims: [batch.length, 3, height, width] } } };
  }
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

/** Windows of whole sentences in corpus order, each at most `rows` token rows (a longer sentence alone). */
export function planWindows(lengths: readonly number[], rows: number): { sentenceStart: number; sentenceEnd: number }[] {
  const windows: { sentenceStart: number; sentenceEnd: number }[] = [];
  let start = 0;
  let count = 0;
  lengths.forEach((n, s) => {
    if (s > start && count + n > rows) {
      windows.push({ sentenceStart: start, sentenceEnd: s });
      start = s;
      count = 0;
    }
    count += n;
  });
  if (lengths.length > start) windows.push({ sentenceStart: start, sentenceEnd: lengths.length });
  return windows;
}

/**
 * Copies one layer's batch output [b, t, heads·D] into a window's [cell][row][dim] block
 * (`heads` per layer: query heads, or key heads).
 */
function scatterVectors(
  out: Float32Array,
  into: Float32Array,
  layer: number,
  heads: number,
  D: number,
  batch: readonly number[],
  seq: number,
  starts: Int32Array,
  rowStart: number,
  rows: number,
): void {
  const cellBase = layer * heads * rows;
  for (let b = 0; b < batch.length; b++) {
    const s = batch[b];
    const first = starts[s] - rowStart;
    const n = starts[s + 1] - starts[s];
    // Read in output order (token, then head): a row is only D values, so index loops beat
    // TypedArray.set's call overhead, and the reads stay sequential.
    for (let t = 0; t < n; t++) {
      let from = (b * seq + t) * heads * D;
      for (let h = 0; h < heads; h++, from += D) {
        const to = (cellBase + h * rows + first + t) * D;
        for (let d = 0; d < D; d++) into[to + d] = out[from + d];
      }
    }
  }
}

/** Copies one layer's value norms [b, heads, t] into a window's [cell][row] block. */
function scatterNorms(
  out: Float32Array,
  into: Float32Array,
  layer: number,
  heads: number,
  batch: readonly number[],
  seq: number,
  starts: Int32Array,
  rowStart: number,
  rows: number,
): void {
  for (let b = 0; b < batch.length; b++) {
    const s = batch[b];
    const first = starts[s] - rowStart;
    const n = starts[s + 1] - starts[s];
    for (let h = 0; h < heads; h++) into.set(out.subarray((b * heads + h) * seq, (b * heads + h) * seq + n), (layer * heads + h) * rows + first);
  }
}

/** Whether a runner's graph gives value norms (one converted before they existed does not). */
export const hasValueNorms = (runner: ModelRunner): boolean =>
  (runner.outputNames?.includes(valueNormOutput(0)) && runner.outputNames.includes(valueOutput(0))) ?? false;

/** Where an extraction's time went: the model's calls, and the sink's (a store's writes, the analysis's sums). */
export interface ExtractionTimes {
  modelMs: number;
  sinkMs: number;
}

/** Extracts every window of the corpus into `sink`; returns the model's attention on the sampled sentences (and adds to `times`). */
export async function extractWindows(
  runner: ModelRunner,
  shape: ExtractionShape,
  corpus: TokenizedCorpus,
  sink: WindowSink,
  options: ExtractOptions = {},
  times: ExtractionTimes = { modelMs: 0, sinkMs: 0 },
): Promise<AttentionSample> {
  const { layers: L, heads: H, headDim: D } = shape;
  const KV = kvHeadsOf(shape);
  const lengths = corpus.sentences.map((s) => s.ids.length);
  const { sentenceStarts } = corpusLayout(lengths);
  const pre = options.rotary === 'pre';
  const [qName, kName] = pre ? [queryPreOutput, keyPreOutput] : [queryOutput, keyOutput];
  const cells = L * H;
  const sample = options.sample ?? sampleSentences(lengths, cells);
  const inSample = new Set(sample);
  const sampleLayout = corpusLayout(Array.from(sample, (s) => lengths[s]));
  const sampleValues = new Float32Array(cells * sampleLayout.pairCount);
  const sampleIndex = new Map(Array.from(sample, (s, i) => [s, i]));

  // Queries and keys (twice for a run of unrotated vectors), values, value norms.
  const bytesPerRow = (L * H + L * KV) * D * 4 * (pre ? 2 : 1) + (L * KV * D + L * H) * 4;
  const longest = Math.max(1, ...lengths);
  const windowRows = Math.max(longest, Math.floor((options.windowBytes ?? WINDOW_BYTES) / bytesPerRow));
  const windows = planWindows(lengths, windowRows);
  const capacity = Math.max(0, ...windows.map((w) => sentenceStarts[w.sentenceEnd] - sentenceStarts[w.sentenceStart]));
  const qBuffer = new Float32Array(L * H * capacity * D);
  const kBuffer = new Float32Array(L * KV * capacity * D);
  const rotatedBuffers = pre ? { queries: new Float32Array(qBuffer.length), keys: new Float32Array(kBuffer.length) } : undefined;
  const withNorms = hasValueNorms(runner);
  const normBuffer = withNorms ? new Float32Array(L * H * capacity) : undefined;
  const valueBuffer = withNorms ? new Float32Array(kBuffer.length) : undefined;

  const progress: ExtractProgress = { sentences: 0, tokens: 0, totalSentences: lengths.length, totalTokens: sentenceStarts[lengths.length] };
  for (const w of windows) {
    const rowStart = sentenceStarts[w.sentenceStart];
    const rows = sentenceStarts[w.sentenceEnd] - rowStart;
    const ids = Array.from({ length: w.sentenceEnd - w.sentenceStart }, (_, i) => w.sentenceStart + i);
    const sampled = ids.filter((s) => inSample.has(s));
    const rest = ids.filter((s) => !inSample.has(s));
    const queries = qBuffer.subarray(0, L * H * rows * D);
    const keys = kBuffer.subarray(0, L * KV * rows * D);
    const rotated = rotatedBuffers && { queries: rotatedBuffers.queries.subarray(0, queries.length), keys: rotatedBuffers.keys.subarray(0, keys.length) };
    const valueNorms = normBuffer?.subarray(0, L * H * rows);
    const values = valueBuffer?.subarray(0, keys.length);
    // Sampled sentences run in batches of their own, the only ones that ask for attention.
    const batches = [
      ...planBatches(lengths, options.maxBatch, sampled).map((b) => ({ b, attention: true })),
      ...planBatches(lengths, options.maxBatch, rest).map((b) => ({ b, attention: false })),
    ];
    for (const { b: batch, attention } of batches) {
      throwIfAborted(options.signal);
      const { feeds, seq } = batchFeeds(corpus, batch, options.padId, runner.inputNames);
      const outputs: string[] = [];
      for (let l = 0; l < L; l++) {
        outputs.push(qName(l), kName(l));
        if (pre) outputs.push(queryOutput(l), keyOutput(l));
        if (withNorms) outputs.push(valueOutput(l), valueNormOutput(l));
        if (attention) outputs.push(attentionOutput(l));
      }
      const called = performance.now();
      const result = await runner.run(feeds, outputs);
      times.modelMs += performance.now() - called;
      throwIfAborted(options.signal);
      for (let l = 0; l < L; l++) {
        scatterVectors(result[qName(l)], queries, l, H, D, batch, seq, sentenceStarts, rowStart, rows);
        scatterVectors(result[kName(l)], keys, l, KV, D, batch, seq, sentenceStarts, rowStart, rows);
        if (rotated) {
          scatterVectors(result[queryOutput(l)], rotated.queries, l, H, D, batch, seq, sentenceStarts, rowStart, rows);
          scatterVectors(result[keyOutput(l)], rotated.keys, l, KV, D, batch, seq, sentenceStarts, rowStart, rows);
        }
        if (values) scatterVectors(result[valueOutput(l)], values, l, KV, D, batch, seq, sentenceStarts, rowStart, rows);
        if (valueNorms) scatterNorms(result[valueNormOutput(l)], valueNorms, l, H, batch, seq, sentenceStarts, rowStart, rows);
        if (attention) {
          const a = result[attentionOutput(l)];
          batch.forEach((s, b) => {
            const n = lengths[s];
            const i = sampleIndex.get(s)!;
            for (let h = 0; h < H; h++) {
              const to = (l * H + h) * sampleLayout.pairCount + sampleLayout.pairStarts[i];
              for (let r = 0; r < n; r++) {
                const from = ((b * H + h) * seq + r) * seq;
                sampleValues.set(a.subarray(from, from + n), to + r * n);
              }
            }
          });
        }
      }
      progress.sentences += batch.length;
      progress.tokens += batch.reduce((sum, s) => sum + lengths[s], 0);
      options.onProgress?.({ ...progress });
      await options.afterBatch?.();
    }
    // This window's share of the sample, per cell (the sums check their heads against it).
    const mine = sampled.map((s) => sampleIndex.get(s)!).sort((a, b) => a - b);
    const size = mine.reduce((n, i) => n + sampleLayout.pairStarts[i + 1] - sampleLayout.pairStarts[i], 0);
    const windowSample = new Float32Array(cells * size);
    for (let c = 0; c < cells; c++) {
      let at = c * size;
      for (const i of mine) {
        const from = c * sampleLayout.pairCount + sampleLayout.pairStarts[i];
        const n = sampleLayout.pairStarts[i + 1] - sampleLayout.pairStarts[i];
        windowSample.set(sampleValues.subarray(from, from + n), at);
        at += n;
      }
    }
    const sampledHere = { sentences: mine.map((i) => sample[i] - w.sentenceStart), values: windowSample };
    const sunk = performance.now();
    await sink({
      sentenceStart: w.sentenceStart,
      sentenceEnd: w.sentenceEnd,
      rowStart,
      rows,
      queries,
      keys,
      rotated,
      values,
      valueNorms,
      sampled: sampledHere,
    });
    times.sinkMs += performance.now() - sunk;
  }
  return { sentences: sample, blocks: sampleLayout.pairStarts, values: sampleValues };
}

/** Arrays end to end. */
function concatenate(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** A whole corpus's extraction in memory ([cell][token][dim] arrays), as the CLI, tests and small runs hold it. */
export async function extractQueryKeys(
  runner: ModelRunner,
  model: string,
  shape: ExtractionShape,
  corpus: TokenizedCorpus,
  options: ExtractOptions = {},
): Promise<QueryKeyData> {
  const { layers: L, heads: H, headDim: D } = shape;
  const KV = kvHeadsOf(shape);
  const layout = corpusLayout(corpus.sentences.map((s) => s.ids.length));
  const N = layout.tokenCount;
  const queries = new Float32Array(L * H * N * D);
  const keys = new Float32Array(L * KV * N * D);
  const rotated = options.rotary === 'pre' ? { queries: new Float32Array(queries.length), keys: new Float32Array(keys.length) } : undefined;
  const valueNorms = hasValueNorms(runner) ? new Float32Array(L * H * N) : undefined;
  const values = valueNorms ? new Float32Array(keys.length) : undefined;
  // A window's [cell][row][width] block into the whole run's [cell][token][width].
  const place = (from: Float32Array, to: Float32Array, cells: number, w: ExtractedWindow, width = D) => {
    for (let c = 0; c < cells; c++) to.set(from.subarray(c * w.rows * width, (c + 1) * w.rows * width), (c * N + w.rowStart) * width);
  };
  const attentionSample = await extractWindows(
    runner,
    shape,
    corpus,
    (w) => {
      place(w.queries, queries, L * H, w);
      place(w.keys, keys, L * KV, w);
      if (rotated && w.rotated) {
        place(w.rotated.queries, rotated.queries, L * H, w);
        place(w.rotated.keys, rotated.keys, L * KV, w);
      }
      if (values && w.values) place(w.values, values, L * KV, w);
      if (valueNorms && w.valueNorms) place(w.valueNorms, valueNorms, L * H, w, 1);
    },
    options,
  );
  return {
    model,
    layers: L,
    heads: H,
    headDim: D,
    kvHeads: KV,
    causal: shape.causal ?? false,
    ...(options.rotary ? { rotary: options.rotary } : {}),
    tokenCount: N,
    sentences: corpus.sentences,
    sentenceStarts: layout.sentenceStarts,
    queries,
    keys,
    ...(rotated ? { rotated } : {}),
    ...(values ? { values } : {}),
    ...(valueNorms ? { valueNorms } : {}),
    ...(shape.image && corpus.pixels ? { images: imageLayout(shape.image), pictures: concatenate(corpus.pixels.pictures) } : {}),
    attention: shape.attention ?? plainAttention(L, D),
    attentionSample,
  };
}
