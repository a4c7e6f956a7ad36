// Benchmark shared by Node and the browser: extracting every layer's Q/K and attention
// from a corpus vs a plain forward pass of the same model whose graph declares only
// last_hidden_state, on the same backend, same batches, in the same run.
import { extractQueryKeys, planBatches, batchFeeds } from '../engine/extract';
import type { ModelShape } from '../data/layout';
import type { ModelRunner } from '../engine/runtime';
import type { TokenizedCorpus } from '../corpus/tokenize';
import { LAST_HIDDEN_STATE } from '../model/outputs';

export interface ExtractionBenchmark {
  tokens: number;
  rounds: number;
  plainMs: number[];
  extractMs: number[];
  plainTokensPerSecond: number;
  extractTokensPerSecond: number;
  /** Median extraction time ÷ median plain time (target ≤ 1.15). */
  ratio: number;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** Runs the corpus through the model in the engine's batches, asking for `outputs` and keeping none. */
export async function forwardPass(runner: ModelRunner, corpus: TokenizedCorpus, outputs: string[] = [LAST_HIDDEN_STATE]): Promise<void> {
  const lengths = corpus.sentences.map((s) => s.ids.length);
  for (const batch of planBatches(lengths)) await runner.run(batchFeeds(corpus, batch).feeds, outputs);
}

/** Alternates plain and extraction passes (after one warm-up each) and reports medians. */
export async function benchmarkExtraction(
  plain: ModelRunner,
  full: ModelRunner,
  shape: ModelShape,
  corpus: TokenizedCorpus,
  rounds = 3,
): Promise<ExtractionBenchmark> {
  await forwardPass(plain, corpus);
  await extractQueryKeys(full, 'bench', shape, corpus);
  const plainMs: number[] = [];
  const extractMs: number[] = [];
  for (let r = 0; r < rounds; r++) {
    let t = performance.now();
    await forwardPass(plain, corpus);
    plainMs.push(performance.now() - t);
    t = performance.now();
    await extractQueryKeys(full, 'bench', shape, corpus);
    extractMs.push(performance.now() - t);
  }
  const tokens = corpus.tokenCount;
  return {
    tokens,
    rounds,
    plainMs,
    extractMs,
    plainTokensPerSecond: tokens / (median(plainMs) / 1000),
    extractTokensPerSecond: tokens / (median(extractMs) / 1000),
    ratio: median(extractMs) / median(plainMs),
  };
}

export function formatExtractionBenchmark(label: string, b: ExtractionBenchmark): string {
  return [
    `${label}: ${b.tokens} tokens, median of ${b.rounds} rounds`,
    `  plain forward (last_hidden_state only): ${Math.round(b.plainTokensPerSecond)} tokens/s`,
    `  extraction (Q, K, attention of every head): ${Math.round(b.extractTokensPerSecond)} tokens/s`,
    `  ratio extraction/plain time: ${b.ratio.toFixed(3)}× (target ≤ 1.15×)`,
  ].join('\n');
}
