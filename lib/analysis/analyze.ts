// Scores every head of an extraction under the three normalization modes: finds each
// head's normalization constants and the SPEC §3 figures. Per head: the pairs' dot products
// once (from the attention, see pairs.ts), a closed-form search for the optimized mode, one
// pass per mode for its figures, and the attention check on a sample of query rows. Heads
// are independent: helper workers take shares of them (head-parallel).
import { throwIfAborted } from '../util/cancel';
import { type QueryKeyData, headAttention, headVectors } from '../engine/layout';
import { type AttentionFigures, type HeadMetrics, headMetrics } from './metrics';
import { DEFAULT_PROJECTION, projectHead } from '../projection/project';
import { type Along, type HeadNormalization, NORMALIZATION_MODES, type NormalizationMode, applyNormalization, optimizedAlong } from './normalize';
import { type AttentionCheck, HeadPairs, releasePairsMemory } from './pairs';

export interface HeadReport {
  layer: number;
  head: number;
  metrics: Record<NormalizationMode, HeadMetrics>;
  attention: AttentionFigures;
}

export interface Analysis {
  heads: HeadReport[];
  /** Per mode, one normalization per head (index layer * heads + head). */
  params: Record<NormalizationMode, HeadNormalization[]>;
  /** softmax(q·k/√d) from the extracted vectors against the model's own attention, every head (CHECK_EVERY-th query rows). */
  attentionCheck: AttentionCheck;
  /** PCA layouts computed with the analysis (the page moves them into its layout store and drops them here). */
  layouts?: PcaLayouts[];
}

/** A PCA layout the analysis computes with the figures (the view the page shows first). */
export interface PcaView {
  mode: NormalizationMode;
  dims: 2 | 3;
}

/** One head's share of an analysis: what a helper worker sends back. */
export interface HeadAnalysis {
  cell: number;
  metrics: Record<NormalizationMode, HeadMetrics>;
  attention: AttentionFigures;
  params: Record<NormalizationMode, HeadNormalization>;
  check: AttentionCheck;
  /** One PCA layout per requested view, as projectHead gives it. */
  layouts: Float32Array[];
}

/** Every head's PCA layout of one view (index layer * heads + head). */
export interface PcaLayouts {
  view: PcaView;
  heads: Float32Array[];
}

/** Some heads' vectors and attention packed on their own ([head][token][dim], [head][pairs]), to send to a helper. */
export interface HeadSlice {
  cells: number[];
  pca: PcaView[];
  vectors: HeadVectorKind;
  headDim: number;
  tokenCount: number;
  sentenceStarts: Int32Array;
  attentionStarts: Int32Array;
  queries: Float32Array;
  keys: Float32Array;
  attention: Float32Array;
}

/** Analyses a slice of heads (`cells`, in its order); awaited by the caller beside its own share. */
export type AnalysisHelper = (slice: HeadSlice, onHead: () => void, signal?: AbortSignal) => Promise<HeadAnalysis[]>;

export interface AnalyzeOptions {
  signal?: AbortSignal;
  onHead?: (done: number, total: number) => void;
  /** Awaited after each head: a worker yields here so a cancel message can arrive. */
  afterHead?: () => Promise<void>;
  /** Workers that take a share of the heads (head-parallel); none: every head here. */
  helpers?: AnalysisHelper[];
  /** PCA layouts to compute with the figures, while each head's vectors are at hand. */
  pca?: PcaView[];
}

/**
 * What a run's vectors are: a decoder's keys are the tokens up to each query (causal); a
 * rotary model's vectors before the rotation (rotaryPre) do not give the attention, so q·k
 * is computed, not derived from it, and the attention check does not apply (NaN).
 */
export interface HeadVectorKind {
  causal?: boolean;
  rotaryPre?: boolean;
}

export const vectorKind = (data: Pick<QueryKeyData, 'causal' | 'rotary'>): HeadVectorKind => ({
  causal: data.causal ?? false,
  rotaryPre: data.rotary === 'pre',
});

/** One head: its dot products, the attention check, each mode's normalization and figures. */
export function analyzeHead(
  cell: number,
  q: Float32Array,
  k: Float32Array,
  attention: Float32Array,
  headDim: number,
  sentenceStarts: Int32Array,
  attentionStarts: Int32Array,
  pca: PcaView[] = [],
  kind: HeadVectorKind = {},
): HeadAnalysis {
  const logitScale = 1 / Math.sqrt(headDim);
  const pairs = new HeadPairs(q, k, headDim, sentenceStarts, attentionStarts, attention, {
    logitScale: kind.rotaryPre ? undefined : logitScale,
    causal: kind.causal,
  });
  // Every mode translates keys along t0 = mean Q − mean K: raw by 0, paper by all of it.
  const along: Record<NormalizationMode, Along> = {
    raw: { alpha: 0, scale: 1 },
    paper: { alpha: 1, scale: pairs.paperScale() },
    optimized: optimizedAlong(pairs),
  };
  const metrics = {} as Record<NormalizationMode, HeadMetrics>;
  const params = {} as Record<NormalizationMode, HeadNormalization>;
  for (const mode of NORMALIZATION_MODES) {
    const { alpha, scale } = along[mode];
    params[mode] = { translation: pairs.t0.map((v) => v * alpha), scale };
    metrics[mode] = headMetrics(pairs.figuresAlong(alpha, scale), params[mode]);
  }
  const layouts = pca.map(({ mode, dims }) => {
    const joint = new Float32Array(2 * q.length);
    applyNormalization(q, k, headDim, params[mode], joint.subarray(0, q.length), joint.subarray(q.length));
    return projectHead(joint, headDim, { ...DEFAULT_PROJECTION, method: 'pca', dims }).coords;
  });
  const check = kind.rotaryPre ? { maxAbsError: NaN, maxRelError: NaN } : pairs.attentionCheck(logitScale);
  const figures = { entropy: pairs.entropy, specialShare: pairs.specialShare };
  pairs.release();
  return { cell, metrics, params, attention: figures, check, layouts };
}

/** Copies some heads out of an extraction, for a helper worker. */
export function headSlice(data: QueryKeyData, cells: number[], pca: PcaView[] = []): HeadSlice {
  const vectors = data.tokenCount * data.headDim;
  const pairs = data.attentionStarts[data.sentences.length];
  const slice: HeadSlice = {
    cells,
    pca,
    vectors: vectorKind(data),
    headDim: data.headDim,
    tokenCount: data.tokenCount,
    sentenceStarts: data.sentenceStarts.slice(),
    attentionStarts: data.attentionStarts.slice(),
    queries: new Float32Array(cells.length * vectors),
    keys: new Float32Array(cells.length * vectors),
    attention: new Float32Array(cells.length * pairs),
  };
  cells.forEach((c, i) => {
    const { q, k } = headVectors(data, Math.floor(c / data.heads), c % data.heads);
    slice.queries.set(q, i * vectors);
    slice.keys.set(k, i * vectors);
    slice.attention.set(headAttention(data, Math.floor(c / data.heads), c % data.heads), i * pairs);
  });
  return slice;
}

/** A helper's side: every head of a slice, in order. */
export async function analyzeSlice(
  slice: HeadSlice,
  options: { signal?: AbortSignal; onHead?: () => void; afterHead?: () => Promise<void> } = {},
): Promise<HeadAnalysis[]> {
  const vectors = slice.tokenCount * slice.headDim;
  const pairs = slice.attentionStarts[slice.attentionStarts.length - 1];
  const out: HeadAnalysis[] = [];
  for (let i = 0; i < slice.cells.length; i++) {
    throwIfAborted(options.signal);
    const at = (a: Float32Array, size: number) => a.subarray(i * size, (i + 1) * size);
    out.push(
      analyzeHead(
        slice.cells[i],
        at(slice.queries, vectors),
        at(slice.keys, vectors),
        at(slice.attention, pairs),
        slice.headDim,
        slice.sentenceStarts,
        slice.attentionStarts,
        slice.pca,
        slice.vectors,
      ),
    );
    options.onHead?.();
    await options.afterHead?.();
  }
  releasePairsMemory();
  return out;
}

/** Most bytes of vectors and attention one helper call carries (a transient copy). */
const HELPER_SLICE_BYTES = 64 << 20;

export async function analyzeHeads(data: QueryKeyData, options: AnalyzeOptions = {}): Promise<Analysis> {
  const total = data.layers * data.heads;
  const helpers = options.helpers ?? [];
  // One queue of heads: helpers take slices from the front, this worker single heads from the
  // back, so all end together; a slice is small enough that its copy stays bounded.
  const queue = Array.from({ length: total }, (_, c) => c);
  const headBytes = 4 * (2 * data.tokenCount * data.headDim + data.attentionStarts[data.sentences.length]);
  const perCall = Math.max(1, Math.min(Math.floor(HELPER_SLICE_BYTES / headBytes), Math.ceil(total / (4 * (helpers.length + 1)))));
  let done = 0;
  const headDone = () => options.onHead?.(++done, total);
  const results: HeadAnalysis[] = [];
  const helperLoop = async (helper: AnalysisHelper) => {
    while (queue.length) {
      const cells = queue.splice(0, perCall);
      try {
        results.push(...(await helper(headSlice(data, cells, options.pca), headDone, options.signal)));
      } catch (error) {
        if (options.signal?.aborted) throw error;
        // A helper that crashed gives its heads back (done here, slower, not lost) and takes no more.
        queue.push(...cells);
        return;
      }
    }
  };
  const here = async () => {
    while (queue.length) {
      throwIfAborted(options.signal);
      const c = queue.pop()!;
      const [layer, head] = [Math.floor(c / data.heads), c % data.heads];
      const { q, k } = headVectors(data, layer, head);
      results.push(
        analyzeHead(c, q, k, headAttention(data, layer, head), data.headDim, data.sentenceStarts, data.attentionStarts, options.pca, vectorKind(data)),
      );
      headDone();
      await options.afterHead?.();
    }
  };
  const helped = helpers.map(helperLoop);
  // A cancel ends this worker's loop first; the helpers' rejections are then not left unhandled.
  for (const h of helped) h.catch(() => {});
  await here();
  await Promise.all(helped);
  // Heads a helper gave back after this worker's queue ran dry.
  await here();
  releasePairsMemory();
  return assemble(results, data.layers, data.heads, options.pca ?? []);
}

function assemble(results: HeadAnalysis[], layers: number, heads: number, pca: PcaView[]): Analysis {
  const byCell = [...results].sort((a, b) => a.cell - b.cell);
  if (byCell.length !== layers * heads || byCell.some((r, i) => r.cell !== i)) throw new Error('the analysis is missing heads');
  const analysis: Analysis = { heads: [], params: { raw: [], paper: [], optimized: [] }, attentionCheck: { maxAbsError: 0, maxRelError: 0 } };
  for (const r of byCell) {
    analysis.heads.push({ layer: Math.floor(r.cell / heads), head: r.cell % heads, metrics: r.metrics, attention: r.attention });
    for (const mode of NORMALIZATION_MODES) analysis.params[mode].push(r.params[mode]);
    analysis.attentionCheck.maxAbsError = Math.max(analysis.attentionCheck.maxAbsError, r.check.maxAbsError);
    analysis.attentionCheck.maxRelError = Math.max(analysis.attentionCheck.maxRelError, r.check.maxRelError);
  }
  if (pca.length) analysis.layouts = pca.map((view, v) => ({ view, heads: byCell.map((r) => r.layouts[v]) }));
  return analysis;
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
