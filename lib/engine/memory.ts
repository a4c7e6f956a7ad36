// Estimates the memory a run needs before it starts, so a corpus too large for the
// browser is refused with numbers instead of crashing the tab half-way.
import { formatBytes } from '../util/format';
import type { ModelShape } from './layout';
import { MAX_RESULT_BYTES, MAX_SENTENCES } from './limits';

export interface MemoryEstimate {
  bytes: number;
  breakdown: { queriesKeys: number; attention: number; working: number };
}

/**
 * Raw Q and K and the attention blocks (float32), plus working memory the size of one more
 * Q/K: the model runtime, analysis and projection workers and the copies in flight. Checked
 * by bench/memory.ts (JS heap + ArrayBuffers + WebAssembly memory of the page and every
 * worker, CDP): at 23,153 tokens the tab peaked at 1.46 GiB against this estimate's 1.44 GiB.
 */
export function estimateRunBytes(shape: ModelShape, lengths: readonly number[]): MemoryEstimate {
  const heads = shape.layers * shape.heads;
  const tokens = lengths.reduce((a, b) => a + b, 0);
  const squares = lengths.reduce((a, n) => a + n * n, 0);
  const queriesKeys = 2 * heads * tokens * shape.headDim * 4;
  const attention = heads * squares * 4;
  const working = queriesKeys;
  return { bytes: queriesKeys + attention + working, breakdown: { queriesKeys, attention, working } };
}

export class CorpusTooLargeError extends Error {}

/** Why a corpus of this many sentences cannot run; null when it can. */
export function sentenceCountRefusal(sentences: number): string | null {
  if (sentences <= MAX_SENTENCES) return null;
  return `This corpus has ${sentences.toLocaleString('en-US')} sentences; QKViz takes at most ${MAX_SENTENCES.toLocaleString('en-US')} per run.`;
}

/** Why a corpus of these sentence lengths (as read: long sentences split) cannot run, with the numbers; null when it fits. */
export function memoryRefusal(shape: ModelShape, lengths: readonly number[], limit = MAX_RESULT_BYTES): string | null {
  const estimate = estimateRunBytes(shape, lengths);
  if (estimate.bytes <= limit) return null;
  const tokens = lengths.reduce((a, b) => a + b, 0);
  const fit = Math.floor((tokens * limit) / estimate.bytes);
  return (
    `This corpus (${lengths.length.toLocaleString('en-US')} sentences, ${tokens.toLocaleString('en-US')} tokens) would need about ` +
    `${formatBytes(estimate.bytes)} for ${shape.layers} × ${shape.heads} heads, over the ${formatBytes(limit)} a browser tab can safely hold. ` +
    `Use at most about ${fit.toLocaleString('en-US')} tokens.`
  );
}

export function assertFitsMemory(shape: ModelShape, lengths: readonly number[], limit = MAX_RESULT_BYTES): MemoryEstimate {
  const refusal = memoryRefusal(shape, lengths, limit);
  if (refusal) throw new CorpusTooLargeError(refusal);
  return estimateRunBytes(shape, lengths);
}
