// How well does geometry reflect attention in one head? The figures of SPEC §3 for a
// given normalization, plus two attention-only figures (entropy, share on special tokens).
import { type QueryKeyData, headAttention, headVectors } from '../engine/layout';
import type { HeadNormalization } from './normalize';
import { type HeadPairs, pearson } from './pairs';

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
  const D = data.headDim;
  const { q, k } = headVectors(data, layer, head);
  const { distance, weighted } = pairs.correlations(norm);
  const n = data.tokenCount;
  const c = norm.scale;
  const t = norm.translation;
  const qn = new Float64Array(D);
  const kn = new Float64Array(D);
  const normalized = (r: number) => {
    for (let d = 0; d < D; d++) {
      qn[d] = q[r * D + d] * c;
      kn[d] = (k[r * D + d] + t[d]) / c;
    }
  };

  // Seed metric: the dot product and cosine distance of each token's own query and key.
  const dots = new Float64Array(n);
  const cosDist = new Float64Array(n);
  for (let r = 0; r < n; r++) {
    normalized(r);
    let dot = 0;
    let a = 0;
    let b = 0;
    for (let d = 0; d < D; d++) {
      dot += qn[d] * kn[d];
      a += qn[d] * qn[d];
      b += kn[d] * kn[d];
    }
    dots[r] = dot;
    cosDist[r] = 1 - dot / Math.sqrt(a * b);
  }

  const ratios = pairs.distanceRatios(norm);
  return {
    distanceCorrelation: distance,
    weightedCorrelation: weighted,
    seedCorrelation: pearson(dots, 0, cosDist, n, null, 0),
    argmaxDistanceRatio: ratios.argmax,
    weightedDistanceRatio: ratios.weighted,
    normalization: { translationNorm: Math.hypot(...t), scale: c },
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
