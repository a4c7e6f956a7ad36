// How well does geometry reflect attention in one head? The figures of SPEC §3 for a
// given normalization, plus two attention-only figures (entropy, share on special tokens).
import type { HeadNormalization } from './normalize';
import type { PairFigures } from './pairs';

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
  /**
   * The same share of the head's output norms Σ_j ‖α_ij·f(x_j)‖ (Kobayashi et al. 2020): what the
   * head moves from those tokens, not how much it looks at them. NaN or absent without value norms.
   */
  valueSpecialShare?: number;
}

export function headMetrics(figures: PairFigures, norm: HeadNormalization): HeadMetrics {
  return {
    distanceCorrelation: figures.distance,
    weightedCorrelation: figures.weighted,
    seedCorrelation: figures.seed,
    argmaxDistanceRatio: figures.argmaxRatio,
    weightedDistanceRatio: figures.weightedRatio,
    normalization: { translationNorm: Math.hypot(...norm.translation), scale: norm.scale },
  };
}
