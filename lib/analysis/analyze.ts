// Scores every head of an extraction under the three normalization modes: finds each head's
// normalization constants and the SPEC §3 figures. Per head: its sums (sums.ts: one pass over
// its pairs for the attention recomputed from q·k, the optimized mode's closed form, the
// check against the model's own attention on the sampled sentences), then one pass over its
// pairs per mode for its figures (pairs.ts). Heads are independent: helper workers take
// shares of them (head-parallel).
import type { AttentionSpec } from '../data/attention';
import { type QueryKeyData, attentionVectors, headValueNorms, headVectors, sampleOf } from '../data/layout';
import { throwIfAborted } from '../util/cancel';
import { type AttentionFigures, type HeadMetrics, headMetrics } from './metrics';
import { type HeadNormalization, NORMALIZATION_MODES, type NormalizationMode } from './normalize';
import { type AttentionCheck, HeadPairs, releasePairsMemory } from './pairs';
import { drainHeads } from './headQueue';
import { type FinishedHead, HeadSums } from './sums';

export interface HeadReport {
  layer: number;
  head: number;
  metrics: Record<NormalizationMode, HeadMetrics>;
  attention: AttentionFigures;
  /** This head's recomputed attention against the model's on the sampled sentences. */
  check: AttentionCheck;
}

export interface Analysis {
  /** False while the figures (metrics) are being computed: they read NaN until then. */
  scored?: boolean;
  heads: HeadReport[];
  /** Per mode, one normalization per head (index layer * heads + head). */
  params: Record<NormalizationMode, HeadNormalization[]>;
  /** softmax of the extracted Q/K against the model's own attention, on the sampled sentences of every head (worst head). */
  attentionCheck: AttentionCheck;
}

/** One head's share of an analysis: what a helper worker sends back. */
export interface HeadAnalysis {
  cell: number;
  metrics: Record<NormalizationMode, HeadMetrics>;
  attention: AttentionFigures;
  params: Record<NormalizationMode, HeadNormalization>;
  check: AttentionCheck;
}

/** What one head's analysis reads besides its vectors. */
export interface HeadInputs {
  headDim: number;
  sentenceStarts: Int32Array;
  spec: AttentionSpec;
  causal: boolean;
  /** The rotated vectors attention is computed from, for a run of unrotated ones. */
  attentionVectors?: { q: Float32Array; k: Float32Array };
  /** The sampled sentences and the model's attention on them, for this head. */
  sample: { sentences: Int32Array; values: Float32Array };
  /** This head's value norms ([token]), when the run has them. */
  valueNorms?: Float32Array;
  /** An image run's leading special tokens per image (the special figures count those). */
  specials?: number;
}

/** Some heads' inputs packed on their own ([head][token][dim]…), to send to a helper. */
export interface HeadSlice {
  cells: number[];
  headDim: number;
  causal: boolean;
  sentenceStarts: Int32Array;
  specs: AttentionSpec[];
  queries: Float32Array;
  keys: Float32Array;
  /** Rotated vectors, for a run of unrotated ones. */
  rotated?: { queries: Float32Array; keys: Float32Array };
  sampleSentences: Int32Array;
  /** [head][sample values]. */
  sample: Float32Array;
  /** [head][token] value norms, when the run has them. */
  valueNorms?: Float32Array;
  /** An image run's leading special tokens per image. */
  specials?: number;
}

/** Some heads' vectors and normalizations, to score (figures only) in a helper. */
export interface ScoreSlice extends Omit<HeadSlice, 'sampleSentences' | 'sample' | 'valueNorms'> {
  params: Record<NormalizationMode, HeadNormalization>[];
}

export interface HeadScore {
  cell: number;
  metrics: Record<NormalizationMode, HeadMetrics>;
}

/** A helper's side of scoring: every head of a slice, in order. */
export async function scoreSlice(
  slice: ScoreSlice,
  options: { signal?: AbortSignal; onHead?: () => void; afterHead?: () => Promise<void> } = {},
): Promise<HeadScore[]> {
  const rows = slice.sentenceStarts[slice.sentenceStarts.length - 1] * slice.headDim;
  const out: HeadScore[] = [];
  for (let i = 0; i < slice.cells.length; i++) {
    throwIfAborted(options.signal);
    const at = (a: Float32Array) => a.subarray(i * rows, (i + 1) * rows);
    const inputs = {
      headDim: slice.headDim,
      sentenceStarts: slice.sentenceStarts,
      spec: slice.specs[i],
      causal: slice.causal,
      attentionVectors: slice.rotated ? { q: at(slice.rotated.queries), k: at(slice.rotated.keys) } : undefined,
    };
    out.push({ cell: slice.cells[i], metrics: scoreHead(at(slice.queries), at(slice.keys), inputs, slice.params[i]) });
    options.onHead?.();
    await options.afterHead?.();
  }
  releasePairsMemory();
  return out;
}

export type ScoreHelper = (slice: ScoreSlice, onHead: () => void, signal?: AbortSignal) => Promise<HeadScore[]>;

/** Analyses a slice of heads (`cells`, in its order); awaited by the caller beside its own share. */
export type AnalysisHelper = (slice: HeadSlice, onHead: () => void, signal?: AbortSignal) => Promise<HeadAnalysis[]>;

export interface AnalyzeOptions {
  signal?: AbortSignal;
  onHead?: (done: number, total: number) => void;
  /** Awaited after each head: a worker yields here so a cancel message can arrive. */
  afterHead?: () => Promise<void>;
  /** Workers that take a share of the heads (head-parallel); none: every head here. */
  helpers?: AnalysisHelper[];
}

/** A head's figures under given normalizations: one pass over its pairs, then one per mode. */
export function scoreHead(
  q: Float32Array,
  k: Float32Array,
  inputs: Omit<HeadInputs, 'sample'>,
  params: Record<NormalizationMode, HeadNormalization>,
): Record<NormalizationMode, HeadMetrics> {
  const pairs = new HeadPairs(q, k, inputs.headDim, inputs.sentenceStarts, {
    spec: inputs.spec,
    causal: inputs.causal,
    attentionVectors: inputs.attentionVectors,
  });
  const metrics = Object.fromEntries(NORMALIZATION_MODES.map((mode) => [mode, headMetrics(pairs.figures(params[mode]), params[mode])])) as Record<
    NormalizationMode,
    HeadMetrics
  >;
  pairs.release();
  return metrics;
}

/** A head's sums over all its rows at once (one window): normalizations, attention figures, the check. */
export function headSums(q: Float32Array, k: Float32Array, inputs: HeadInputs): FinishedHead {
  const sums = new HeadSums(inputs.headDim, inputs.spec, inputs.causal, inputs.specials);
  sums.add(
    { q, k, qa: inputs.attentionVectors?.q, ka: inputs.attentionVectors?.k, vn: inputs.valueNorms, sentenceStarts: inputs.sentenceStarts },
    { sentences: Array.from(inputs.sample.sentences), values: inputs.sample.values },
  );
  return sums.finish(k);
}

/** One head: its normalizations and attention figures (sums.ts), then each mode's figures. */
export function analyzeHead(cell: number, q: Float32Array, k: Float32Array, inputs: HeadInputs): HeadAnalysis {
  const { params, attention, check } = headSums(q, k, inputs);
  return { cell, metrics: scoreHead(q, k, inputs, params), params, attention, check };
}

/** What analyzeHead reads for one cell of an extraction, besides the vectors. */
export function headInputs(data: QueryKeyData, cell: number): HeadInputs {
  const [layer, head] = [Math.floor(cell / data.heads), cell % data.heads];
  return {
    headDim: data.headDim,
    sentenceStarts: data.sentenceStarts,
    spec: data.attention[layer],
    causal: data.causal ?? false,
    attentionVectors: data.rotated ? attentionVectors(data, layer, head) : undefined,
    sample: { sentences: data.attentionSample.sentences, values: sampleOf(data.attentionSample, cell) },
    valueNorms: headValueNorms(data, cell) ?? undefined,
    specials: data.images?.specials,
  };
}

/** Copies some heads out of an extraction, for a helper worker. */
export function headSlice(data: QueryKeyData, cells: number[]): HeadSlice {
  const rows = data.tokenCount * data.headDim;
  const sampleSize = data.attentionSample.blocks[data.attentionSample.blocks.length - 1];
  const slice: HeadSlice = {
    cells,
    headDim: data.headDim,
    causal: data.causal ?? false,
    sentenceStarts: data.sentenceStarts.slice(),
    specs: cells.map((c) => data.attention[Math.floor(c / data.heads)]),
    queries: new Float32Array(cells.length * rows),
    keys: new Float32Array(cells.length * rows),
    rotated: data.rotated ? { queries: new Float32Array(cells.length * rows), keys: new Float32Array(cells.length * rows) } : undefined,
    sampleSentences: data.attentionSample.sentences.slice(),
    sample: new Float32Array(cells.length * sampleSize),
    valueNorms: data.valueNorms ? new Float32Array(cells.length * data.tokenCount) : undefined,
    specials: data.images?.specials,
  };
  cells.forEach((c, i) => {
    const [layer, head] = [Math.floor(c / data.heads), c % data.heads];
    const { q, k } = headVectors(data, layer, head);
    slice.queries.set(q, i * rows);
    slice.keys.set(k, i * rows);
    if (slice.rotated) {
      const a = attentionVectors(data, layer, head);
      slice.rotated.queries.set(a.q, i * rows);
      slice.rotated.keys.set(a.k, i * rows);
    }
    slice.sample.set(sampleOf(data.attentionSample, c), i * sampleSize);
    slice.valueNorms?.set(headValueNorms(data, c)!, i * data.tokenCount);
  });
  return slice;
}

/** The buffers a slice travels with (moved, not copied). */
export const sliceTransfer = (slice: HeadSlice): ArrayBuffer[] =>
  [
    slice.queries,
    slice.keys,
    slice.sample,
    ...(slice.rotated ? [slice.rotated.queries, slice.rotated.keys] : []),
    ...(slice.valueNorms ? [slice.valueNorms] : []),
  ].map((a) => a.buffer as ArrayBuffer);

/** A helper's side: every head of a slice, in order. */
export async function analyzeSlice(
  slice: HeadSlice,
  options: { signal?: AbortSignal; onHead?: () => void; afterHead?: () => Promise<void> } = {},
): Promise<HeadAnalysis[]> {
  const rows = slice.sentenceStarts[slice.sentenceStarts.length - 1] * slice.headDim;
  const sampleSize = slice.sample.length / Math.max(1, slice.cells.length);
  const out: HeadAnalysis[] = [];
  for (let i = 0; i < slice.cells.length; i++) {
    throwIfAborted(options.signal);
    const at = (a: Float32Array, size: number) => a.subarray(i * size, (i + 1) * size);
    out.push(
      analyzeHead(slice.cells[i], at(slice.queries, rows), at(slice.keys, rows), {
        headDim: slice.headDim,
        sentenceStarts: slice.sentenceStarts,
        spec: slice.specs[i],
        causal: slice.causal,
        attentionVectors: slice.rotated ? { q: at(slice.rotated.queries, rows), k: at(slice.rotated.keys, rows) } : undefined,
        sample: { sentences: slice.sampleSentences, values: at(slice.sample, sampleSize) },
        valueNorms: slice.valueNorms && at(slice.valueNorms, slice.sentenceStarts[slice.sentenceStarts.length - 1]),
        specials: slice.specials,
      }),
    );
    options.onHead?.();
    await options.afterHead?.();
  }
  releasePairsMemory();
  return out;
}

/** Most bytes of vectors one helper call carries (a transient copy). */
const HELPER_SLICE_BYTES = 64 << 20;

export async function analyzeHeads(data: QueryKeyData, options: AnalyzeOptions = {}): Promise<Analysis> {
  const total = data.layers * data.heads;
  const helpers = options.helpers ?? [];
  // A slice is small enough that its copy stays bounded.
  const headBytes = 4 * 2 * data.tokenCount * data.headDim * (data.rotated ? 2 : 1);
  const perSlice = Math.max(1, Math.min(Math.floor(HELPER_SLICE_BYTES / headBytes), Math.ceil(total / (4 * (helpers.length + 1)))));
  let done = 0;
  const headDone = () => options.onHead?.(++done, total);
  const results = await drainHeads<HeadAnalysis>(total, {
    perSlice,
    helpers: helpers.map((helper) => (cells: number[]) => helper(headSlice(data, cells), headDone, options.signal)),
    here: (c) => {
      const { q, k } = headVectors(data, Math.floor(c / data.heads), c % data.heads);
      const analysis = analyzeHead(c, q, k, headInputs(data, c));
      headDone();
      return analysis;
    },
    signal: options.signal,
    afterHead: options.afterHead,
  });
  releasePairsMemory();
  return assemble(results, data.layers, data.heads);
}

function assemble(results: HeadAnalysis[], layers: number, heads: number): Analysis {
  const byCell = [...results].sort((a, b) => a.cell - b.cell);
  if (byCell.length !== layers * heads || byCell.some((r, i) => r.cell !== i)) throw new Error('the analysis is missing heads');
  const analysis: Analysis = { heads: [], params: { raw: [], paper: [], optimized: [] }, attentionCheck: worstCheck(byCell.map((r) => r.check)) };
  for (const r of byCell) {
    analysis.heads.push({ layer: Math.floor(r.cell / heads), head: r.cell % heads, metrics: r.metrics, attention: r.attention, check: r.check });
    for (const mode of NORMALIZATION_MODES) analysis.params[mode].push(r.params[mode]);
  }
  return analysis;
}

/** The worst of some heads' checks (NaN when none checked anything). */
export function worstCheck(checks: AttentionCheck[]): AttentionCheck {
  const checked = checks.filter((c) => !Number.isNaN(c.maxAbsError));
  if (!checked.length) return { maxAbsError: NaN, maxRelError: NaN };
  return { maxAbsError: Math.max(...checked.map((c) => c.maxAbsError)), maxRelError: Math.max(...checked.map((c) => c.maxRelError)) };
}

/** How many heads a mode improves over raw on a figure where lower is better. */
export function countImproved(analysis: Analysis, mode: NormalizationMode, figure: keyof Omit<HeadMetrics, 'normalization'>): number {
  return analysis.heads.filter((h) => h.metrics[mode][figure] < h.metrics.raw[figure]).length;
}

export interface Improvement {
  figure: keyof Omit<HeadMetrics, 'normalization'>;
  mode: NormalizationMode;
  improved: number;
  heads: number;
  medianRaw: number;
  median: number;
  /** Median over heads of (mode − raw); negative is better. */
  medianChange: number;
}

const median = (values: number[]) => {
  const s = [...values].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/** For every figure and normalized mode: how many heads it improves over raw, and by how much. */
export function improvementSummary(analysis: Analysis): Improvement[] {
  const figures = Object.keys(analysis.heads[0].metrics.raw).filter((k) => k !== 'normalization') as Improvement['figure'][];
  return figures.flatMap((figure) =>
    (['paper', 'optimized'] as const).map((mode) => ({
      figure,
      mode,
      improved: countImproved(analysis, mode, figure),
      heads: analysis.heads.length,
      medianRaw: median(analysis.heads.map((h) => h.metrics.raw[figure])),
      median: median(analysis.heads.map((h) => h.metrics[mode][figure])),
      medianChange: median(analysis.heads.map((h) => h.metrics[mode][figure] - h.metrics.raw[figure])),
    })),
  );
}
