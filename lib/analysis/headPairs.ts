// Builds a head's pair statistics from an extraction (kept apart from pairs.ts so that
// module stays free of the engine's layout types).
import { type QueryKeyData, headAttention, headVectors } from '../engine/layout';
import { vectorKind } from './analyze';
import { HeadPairs } from './pairs';

/** With `logitScale` (the model's 1/√d), q·k is derived from the attention where that holds (see pairs.ts). */
export function headPairsOf(data: QueryKeyData, layer: number, head: number, logitScale?: number): HeadPairs {
  const { q, k } = headVectors(data, layer, head);
  const { causal, rotaryPre } = vectorKind(data);
  return new HeadPairs(q, k, data.headDim, data.sentenceStarts, data.attentionStarts, headAttention(data, layer, head), {
    logitScale: rotaryPre ? undefined : logitScale,
    causal,
  });
}
