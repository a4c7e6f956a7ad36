// The typed arrays of a run's result, to hand to postMessage's transfer list (moved to the
// page, not copied): its token rows, the model's sampled attention and the first layouts.
import type { RunResult } from './types';

export function transferablesOf(result: RunResult): ArrayBuffer[] {
  const d = result.data;
  const layouts = (result.layouts ?? []).flatMap((l) => l.heads);
  const sample = [d.attentionSample.values, d.attentionSample.sentences, d.attentionSample.blocks];
  return [...new Set([d.sentenceStarts, ...sample, ...layouts].map((a) => a.buffer as ArrayBuffer))];
}
