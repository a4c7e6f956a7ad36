// The model's own attention on the sampled sentences against attention recomputed from the
// extracted Q/K, over every head and every row of those sentences: the extraction's check
// (the CLI prints it; the analysis makes the same check per head, in its own pass).
import { type QueryKeyData, sampleOf } from '../data/layout';
import { runSentenceAttention } from './attention';

export interface AttentionCheck {
  /** NaN when no sentence was sampled. */
  maxAbsError: number;
  /** Largest error relative to the attention value, over weights ≥ 1e-3. */
  maxRelError: number;
}

export function checkAttention(data: QueryKeyData): AttentionCheck {
  const { sentences, blocks } = data.attentionSample;
  if (!sentences.length) return { maxAbsError: NaN, maxRelError: NaN };
  let maxAbsError = 0;
  let maxRelError = 0;
  for (let l = 0; l < data.layers; l++) {
    for (let h = 0; h < data.heads; h++) {
      const model = sampleOf(data.attentionSample, l * data.heads + h);
      sentences.forEach((s, i) => {
        const ours = runSentenceAttention(data, l, h, s);
        for (let p = 0; p < ours.length; p++) {
          const want = model[blocks[i] + p];
          const err = Math.abs(ours[p] - want);
          if (err > maxAbsError) maxAbsError = err;
          if (want >= 1e-3 && err / want > maxRelError) maxRelError = err / want;
        }
      });
    }
  }
  return { maxAbsError, maxRelError };
}
