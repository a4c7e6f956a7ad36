// A head's pair statistics from an extraction (kept apart from pairs.ts so that module stays
// free of the run's data layout).
import { type QueryKeyData, attentionVectors, headVectors } from '../data/layout';
import { HeadPairs } from './pairs';

export function headPairsOf(data: QueryKeyData, layer: number, head: number): HeadPairs {
  const { q, k } = headVectors(data, layer, head);
  return new HeadPairs(q, k, data.headDim, data.sentenceStarts, {
    spec: data.attention[layer],
    causal: data.causal,
    attentionVectors: data.rotated ? attentionVectors(data, layer, head) : undefined,
  });
}
