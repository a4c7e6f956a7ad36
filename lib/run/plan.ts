// What a run of a corpus costs before it starts — tokens after splitting long sentences, the
// longest, the query–key pairs the analysis scores, the memory the tab needs while it runs
// and the disk its store takes — and whether it is refused, with the numbers, instead of
// crashing the tab or filling the disk half-way. The corpus card and the model worker take
// these figures from here, so the card says what the run will decide.
import { partLengths } from '../corpus/tokenize';
import { type ModelShape, kvHeadsOf } from '../data/layout';
import { ATTENTION_SAMPLE_BYTES, MAX_RESULT_BYTES, MAX_SENTENCES, WINDOW_BYTES } from '../engine/limits';
import type { StoreRoot } from '../store/files';
import { FULL_LAYOUT_BYTES, GEOMETRY_BYTES_PER_POINT, MATRIX_POINTS, overviewPoints } from '../views/lod';
import { formatBytes, formatCount } from '../util/format';

export interface MemoryEstimate {
  bytes: number;
  breakdown: { window: number; head: number; layouts: number; tokens: number };
}

/** Bytes a head's analysis holds per token (norms, weights, sums, random pairs) and per query–key pair (q·k in f64, attention in f32). */
const HEAD_BYTES_PER_TOKEN = 100;
const HEAD_BYTES_PER_PAIR = 12;
/** What the page keeps per token: its text, ids and the views' per-point tables. */
const PAGE_BYTES_PER_TOKEN = 200;

/**
 * The tab's working set while a run goes and is shown: the queries and keys stay in the run
 * store (disk), so what is held is one extraction window of them (and the store's float16
 * copy of it), the heads analysed at once (a head's vectors and its pairs: q·k and the
 * attention recomputed from them), every head's layout as the matrix holds it (a sample of a
 * large run's) and a few heads in full, the renderer's geometry and the tokens. Checked by
 * bench/memory.ts.
 */
export function estimateRunBytes(shape: ModelShape & { rotaryPre?: boolean }, lengths: readonly number[]): MemoryEstimate {
  const cells = shape.layers * shape.heads;
  const tokens = lengths.reduce((a, b) => a + b, 0);
  // A token's row in a window: queries and keys (twice for unrotated vectors), its values and value norms.
  const rowBytes =
    shape.layers * ((shape.heads + kvHeadsOf(shape)) * shape.headDim * (shape.rotaryPre ? 2 : 1) + kvHeadsOf(shape) * shape.headDim + shape.heads) * 4;
  const window = Math.min(WINDOW_BYTES, tokens * rowBytes) * 1.5;
  let longest = 0;
  let squares = 0;
  for (const n of lengths) {
    longest = Math.max(longest, n);
    squares += n * n;
  }
  // A window's pairs at most (a window holds WINDOW_BYTES of rows), and a whole head's vectors at the end.
  const windowPairs = Math.min(squares, Math.max(longest * longest, (squares / Math.max(1, tokens)) * (WINDOW_BYTES / rowBytes)));
  const head = HEAD_BYTES_PER_PAIR * windowPairs + HEAD_BYTES_PER_TOKEN * tokens + 2 * tokens * shape.headDim * 4 * (shape.rotaryPre ? 2 : 1);
  // Every head's layout of the view shown as the matrix holds it (all its points, or past the
  // overview's share the sample order's first: MATRIX_POINTS in all), the heads kept in full
  // (FULL_LAYOUT_BYTES at most), the matrix's geometry and the focused head's.
  const overview = cells * Math.min(2 * tokens, overviewPoints(shape.layers, shape.heads, tokens)) * 3 * 4;
  const full = overview < cells * 2 * tokens * 3 * 4 ? Math.min(cells * 2 * tokens * 3 * 4, FULL_LAYOUT_BYTES) : 0;
  const layouts = overview + full + GEOMETRY_BYTES_PER_POINT * (Math.min(cells * 2 * tokens, MATRIX_POINTS) + 2 * tokens);
  const bytes = window + head + layouts + PAGE_BYTES_PER_TOKEN * tokens;
  return { bytes, breakdown: { window, head, layouts, tokens: PAGE_BYTES_PER_TOKEN * tokens } };
}

/**
 * Bytes a run's store takes on disk: every head's queries, its key heads' keys and values
 * (float32 or float16), each head's value norms (float32) and the sampled attention.
 */
export function estimateDiskBytes(shape: ModelShape & { rotaryPre?: boolean }, tokens: number, dtype: 'float32' | 'float16' = 'float32'): number {
  const size = dtype === 'float16' ? 2 : 4;
  const kv = kvHeadsOf(shape);
  return shape.layers * tokens * (((shape.heads + kv) * (shape.rotaryPre ? 2 : 1) + kv) * shape.headDim * size + shape.heads * 4) + ATTENTION_SAMPLE_BYTES;
}

/** Of the space the browser (or disk) says is free, what a run may take: the rest stays for the page's other stores. */
const DISK_SHARE = 0.8;

/** Why a run would not fit the store's free space, with the numbers; null when it fits (or the platform does not say). */
export function diskRefusal(
  shape: ModelShape & { rotaryPre?: boolean },
  tokens: number,
  dtype: 'float32' | 'float16',
  space: { quota: number; usage: number } | null,
): string | null {
  if (!space) return null;
  const need = estimateDiskBytes(shape, tokens, dtype);
  const free = Math.max(0, space.quota - space.usage) * DISK_SHARE;
  if (need <= free) return null;
  const fit = Math.floor((tokens * free) / need);
  return (
    `This run's queries and keys (${formatCount(tokens)} tokens, ${dtype}) need about ${formatBytes(need)} of storage; this browser has ${formatBytes(free)} free for them ` +
    `(${formatBytes(space.usage)} of its ${formatBytes(space.quota)} quota in use). Clear cached runs${dtype === 'float32' ? ', store float16 vectors' : ''} or use at most about ${formatCount(fit)} tokens.`
  );
}

export async function assertFitsDisk(
  root: StoreRoot,
  shape: ModelShape,
  corpus: { tokenCount: number },
  dtype: 'float32' | 'float16',
  rotaryPre: boolean,
): Promise<void> {
  const refusal = diskRefusal({ ...shape, rotaryPre }, corpus.tokenCount, dtype, await root.estimate());
  if (refusal) throw new CorpusTooLargeError(refusal);
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
    `${formatBytes(estimate.bytes)} of tab memory for ${shape.layers} × ${shape.heads} heads (the matrix's layouts, a head's working set, the tokens), over the ${formatBytes(limit)} a browser tab can safely hold. ` +
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
  /** The run store's bytes on disk (queries and keys at the chosen precision). */
  disk: number;
  /** Why a run would be refused, with the numbers; null when it can run. */
  refusal: string | null;
}

/**
 * The corpus card's figures from each sentence's token count (before splitting); with the
 * store's free space (navigator.storage.estimate), the refusal says when it would not fit it.
 */
export function corpusFacts(
  lengths: ArrayLike<number>,
  shape: ModelShape & { maxTokens: number },
  storage: { space: { quota: number; usage: number } | null; dtype: 'float32' | 'float16' } = { space: null, dtype: 'float32' },
): CorpusFacts {
  const parts: number[] = [];
  let longest = 0;
  let overLimit = 0;
  for (let i = 0; i < lengths.length; i++) {
    longest = Math.max(longest, lengths[i]);
    if (lengths[i] > shape.maxTokens) overLimit++;
    parts.push(...partLengths(lengths[i], shape.maxTokens));
  }
  const tokens = parts.reduce((a, b) => a + b, 0);
  return {
    sentences: lengths.length,
    tokens,
    longest,
    overLimit,
    headPairs: parts.reduce((a, n) => a + n * n, 0) * shape.layers * shape.heads,
    memory: estimateRunBytes(shape, parts),
    disk: estimateDiskBytes(shape, tokens, storage.dtype),
    refusal: sentenceCountRefusal(lengths.length) ?? memoryRefusal(shape, parts) ?? diskRefusal(shape, tokens, storage.dtype, storage.space),
  };
}
