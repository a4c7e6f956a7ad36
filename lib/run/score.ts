// A stored run's figures, after its matrix is on screen: each head read back from the store
// and scored under every mode's normalization (one pass over its pairs per mode), here and in
// helper workers (a queue of heads: helpers take a few at a time, this thread one; a helper
// that crashes gives its heads back).
import { type HeadScore, type ScoreHelper, type ScoreSlice, scoreHead } from '../analysis/analyze';
import type { HeadNormalization, NormalizationMode } from '../analysis/normalize';
import { drainHeads } from '../analysis/headQueue';
import { releasePairsMemory } from '../analysis/pairs';
import type { RunData } from '../data/layout';
import type { RunVectors } from '../store/vectors';

export interface ScoreOptions {
  helpers?: ScoreHelper[];
  signal?: AbortSignal;
  onHead?: (done: number, total: number) => void;
  afterHead?: () => Promise<void>;
}

/** Heads a helper takes at once. */
const HELPER_HEADS = 4;
/** …but no more than this many bytes of queries and keys in flight to a helper (one head of a large run). */
const HELPER_SLICE_BYTES = 64 * 1024 ** 2;
/**
 * Bytes the scoring threads may hold at once: a thread scoring a head holds its vectors and, in
 * WebAssembly memory, a copy of them beside its pairs (about three times the head's vectors).
 * Past this, fewer helpers: at 200k tokens a head is 53 MB and one thread scores.
 */
const SCORE_BUDGET_BYTES = 256 * 1024 ** 2;

export async function scoreStoredRun(
  vectors: RunVectors,
  data: RunData,
  params: Record<NormalizationMode, HeadNormalization>[],
  options: ScoreOptions = {},
): Promise<HeadScore[]> {
  const total = data.layers * data.heads;
  const rotated = data.rotary === 'pre';
  let done = 0;
  const headDone = () => options.onHead?.(++done, total);
  const headBytes = 2 * data.tokenCount * data.headDim * 4 * (rotated ? 2 : 1);
  const perSlice = Math.max(1, Math.min(HELPER_HEADS, Math.floor(HELPER_SLICE_BYTES / headBytes)));
  const threads = Math.max(1, Math.floor(SCORE_BUDGET_BYTES / (3 * headBytes)));
  const pack = (arrays: Float32Array[]) => {
    if (arrays.length === 1) return arrays[0];
    const out = new Float32Array(arrays.reduce((n, a) => n + a.length, 0));
    let at = 0;
    for (const a of arrays) out.set(a, (at += a.length) - a.length);
    return out;
  };
  const toHelper = (helper: ScoreHelper) => async (cells: number[]) => {
    const heads = await Promise.all(cells.map((c) => vectors.head(c)));
    const attention = rotated ? await Promise.all(cells.map((c) => vectors.attentionHead(c))) : [];
    const slice: ScoreSlice = {
      cells,
      headDim: data.headDim,
      causal: data.causal ?? false,
      sentenceStarts: data.sentenceStarts.slice(),
      specs: cells.map((c) => data.attention[Math.floor(c / data.heads)]),
      queries: pack(heads.map((h) => h.q)),
      keys: pack(heads.map((h) => h.k)),
      ...(rotated ? { rotated: { queries: pack(attention.map((h) => h.q)), keys: pack(attention.map((h) => h.k)) } } : {}),
      params: cells.map((c) => params[c]),
    };
    return helper(slice, headDone, options.signal);
  };
  const results = await drainHeads<HeadScore>(total, {
    perSlice,
    helpers: (options.helpers ?? []).slice(0, threads - 1).map(toHelper),
    here: async (c) => {
      const { q, k } = await vectors.head(c);
      const attentionVectors = rotated ? await vectors.attentionHead(c) : undefined;
      const metrics = scoreHead(
        q,
        k,
        {
          headDim: data.headDim,
          sentenceStarts: data.sentenceStarts,
          spec: data.attention[Math.floor(c / data.heads)],
          causal: data.causal ?? false,
          attentionVectors,
        },
        params[c],
      );
      headDone();
      return { cell: c, metrics };
    },
    signal: options.signal,
    afterHead: options.afterHead,
  });
  releasePairsMemory();
  return results.sort((a, b) => a.cell - b.cell);
}

/** The buffers a score slice travels with (moved, not copied). */
export const scoreSliceTransfer = (slice: ScoreSlice): ArrayBuffer[] =>
  [slice.queries, slice.keys, ...(slice.rotated ? [slice.rotated.queries, slice.rotated.keys] : [])].map((a) => a.buffer as ArrayBuffer);
