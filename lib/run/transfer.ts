// The typed arrays of a run's result, to hand to postMessage's transfer list (moved to the
// page, not copied).
import type { RunResult } from './types';

export function transferablesOf(result: RunResult): ArrayBuffer[] {
  const d = result.data;
  const layouts = (result.layouts ?? []).flatMap((l) => l.heads);
  const rotated = d.rotated ? [d.rotated.queries, d.rotated.keys] : [];
  const sample = [d.attentionSample.values, d.attentionSample.sentences, d.attentionSample.blocks];
  return [...new Set([d.queries, d.keys, ...rotated, d.sentenceStarts, ...sample, ...layouts].map((a) => a.buffer as ArrayBuffer))];
}
