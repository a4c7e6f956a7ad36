// Scores every head of an extraction under the three normalization modes: finds each
// head's normalization constants and the SPEC §3 figures, sharing one pass over the pairs.
import { CancelledError } from '../engine/extract';
import { type QueryKeyData, headVectors } from '../engine/layout';
import { type AttentionFigures, type HeadMetrics, attentionFigures, headMetrics } from './metrics';
import { type HeadNormalization, NORMALIZATION_MODES, type NormalizationMode, identityNormalization, optimizedNormalization, paperNormalization } from './normalize';
import { headPairsOf } from './headPairs';

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
}

export interface AnalyzeOptions {
  signal?: AbortSignal;
  onHead?: (done: number, total: number) => void;
  /** Awaited after each head: a worker yields here so a cancel message can arrive. */
  afterHead?: () => Promise<void>;
}

export async function analyzeHeads(data: QueryKeyData, options: AnalyzeOptions = {}): Promise<Analysis> {
  const total = data.layers * data.heads;
  const analysis: Analysis = { heads: [], params: { raw: [], paper: [], optimized: [] } };
  for (let l = 0; l < data.layers; l++) {
    for (let h = 0; h < data.heads; h++) {
      if (options.signal?.aborted) throw new CancelledError();
      const { q, k } = headVectors(data, l, h);
      const pairs = headPairsOf(data, l, h);
      const paper = paperNormalization(q, k, data.headDim);
      const norms: Record<NormalizationMode, HeadNormalization> = {
        raw: identityNormalization(data.headDim),
        paper,
        optimized: optimizedNormalization(pairs),
      };
      const metrics = {} as Record<NormalizationMode, HeadMetrics>;
      for (const mode of NORMALIZATION_MODES) {
        analysis.params[mode].push(norms[mode]);
        metrics[mode] = headMetrics(data, l, h, pairs, norms[mode]);
      }
      analysis.heads.push({ layer: l, head: h, metrics, attention: attentionFigures(data, l, h) });
      options.onHead?.(l * data.heads + h + 1, total);
      await options.afterHead?.();
    }
  }
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
