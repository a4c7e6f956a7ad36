// How well does geometry reflect attention in one head? The figures of SPEC §3 for a
// given normalization, plus two attention-only figures (entropy, share on special tokens).
import { type QueryKeyData, headAttention } from '../engine/layout';
import type { HeadNormalization } from './normalize';
import type { HeadPairs } from './pairs';
import { leastSquares, seedScatter } from './scatter';

export interface HeadMetrics {
  /** Mean per-query Pearson(q·k, ‖q − k‖) over the keys of its sentence (goal: −1). */
  distanceCorrelation: number;
  /** The same, weighted by attention (what "optimized" minimises). */
  weightedCorrelation: number;
  /** The seed notebook's figure: Pearson(q_i·k_i, cosine distance(q_i, k_i)) over tokens. */
  seedCorrelation: number;
  /** Mean ‖q − k_argmax‖ / mean ‖q − k_random‖ in the normalized space (< 1: attended keys sit closer). */
  argmaxDistanceRatio: number;
  /** Mean attention-weighted distance Σ_j A_ij ‖q_i − k_j‖ over the same chance level (what "optimized" minimises). */
  weightedDistanceRatio: number;
  normalization: { translationNorm: number; scale: number };
}

export interface AttentionFigures {
  /** Mean entropy (nats) of the attention rows. */
  entropy: number;
  /** Mean share of attention on the first and last token ([CLS], [SEP]). */
  specialShare: number;
}

export function headMetrics(data: QueryKeyData, layer: number, head: number, pairs: HeadPairs, norm: HeadNormalization): HeadMetrics {
  const { distance, weighted } = pairs.correlations(norm);
  const seed = seedScatter(data, layer, head, norm);
  const ratios = pairs.distanceRatios(norm);
  return {
    distanceCorrelation: distance,
    weightedCorrelation: weighted,
    seedCorrelation: leastSquares(seed.dot, seed.cosineDistance).correlation,
    argmaxDistanceRatio: ratios.argmax,
    weightedDistanceRatio: ratios.weighted,
    normalization: { translationNorm: Math.hypot(...norm.translation), scale: norm.scale },
  };
}

export function attentionFigures(data: QueryKeyData, layer: number, head: number): AttentionFigures {
  const attention = headAttention(data, layer, head);
  let entropy = 0;
  let special = 0;
  let rows = 0;
  for (let s = 0; s < data.sentences.length; s++) {
    const len = data.sentenceStarts[s + 1] - data.sentenceStarts[s];
    const block = data.attentionStarts[s];
    for (let i = 0; i < len; i++) {
      const row = block + i * len;
      for (let j = 0; j < len; j++) {
        const a = attention[row + j];
        if (a > 0) entropy -= a * Math.log(a);
      }
      special += attention[row] + (len > 1 ? attention[row + len - 1] : 0);
      rows++;
    }
  }
  return { entropy: entropy / rows, specialShare: special / rows };
}
