// The one path from a corpus to what the page shows first, used by the page's model worker,
// the CLI and the benchmarks alike: tokenize → check the memory → extract → analyze → the
// first views' PCA. Opening the model (download, device, warm-up) is the caller's: the page
// does it once per model and device, the CLI once per command.
import { type AnalysisHelper, type Analysis, analyzeHeads } from '../analysis/analyze';
import { type TokenizedCorpus, tokenizeCorpus } from '../corpus/tokenize';
import { CorpusError } from '../corpus/parse';
import type { QueryKeyData, RotaryVectors } from '../data/layout';
import { type ExtractionShape, extractQueryKeys } from '../engine/extract';
import { MAX_RESULT_BYTES } from '../engine/limits';
import type { ModelRunner } from '../engine/runtime';
import { type PcaLayouts, type PcaView, pcaLayouts } from '../projection/pcaViews';
import { CorpusTooLargeError, assertFitsMemory, sentenceCountRefusal } from './plan';
import type { PreTrainedTokenizer } from '@huggingface/transformers';

/** What the pipeline needs to know of a model. */
export interface PipelineModel extends ExtractionShape {
  name: string;
  maxTokens: number;
  /** Rotary positions: the graph outputs Q and K before and after the rotation. */
  rotary?: boolean;
}

/**
 * The corpus as the model reads it (long sentences split into parts), refused with the
 * numbers when it is empty, has too many sentences or would not fit `memoryLimit`.
 */
export function prepareCorpus(tokenizer: PreTrainedTokenizer, sentences: string[], model: PipelineModel, memoryLimit = MAX_RESULT_BYTES): TokenizedCorpus {
  if (sentences.length === 0) throw new CorpusError('the corpus is empty: give at least one sentence (one per line)');
  const tooMany = sentenceCountRefusal(sentences.length);
  if (tooMany) throw new CorpusTooLargeError(tooMany);
  const corpus = tokenizeCorpus(tokenizer, sentences, model.maxTokens);
  assertFitsMemory(
    model,
    corpus.sentences.map((s) => s.ids.length),
    memoryLimit,
  );
  return corpus;
}

export type PipelineStage = 'extract' | 'analyze';

export interface PipelineOptions {
  /** A rotary model's vectors: after the rotation (default) or before it. */
  rotary?: RotaryVectors;
  /** PCA layouts to make with the analysis: the views shown first. */
  pca?: PcaView[];
  helpers?: AnalysisHelper[];
  signal?: AbortSignal;
  onProgress?: (stage: PipelineStage, done: number, total: number) => void;
  /** Awaited between batches and heads: a worker yields here so a cancel message can arrive. */
  afterStep?: () => Promise<void>;
}

export interface PipelineResult {
  data: QueryKeyData;
  analysis: Analysis;
  layouts: PcaLayouts[];
  extractMs: number;
  analyzeMs: number;
}

export async function analyzeCorpus(
  runner: ModelRunner,
  model: PipelineModel,
  corpus: TokenizedCorpus,
  options: PipelineOptions = {},
): Promise<PipelineResult> {
  const { signal, onProgress, afterStep } = options;
  const started = performance.now();
  onProgress?.('extract', 0, corpus.tokenCount);
  const data = await extractQueryKeys(runner, model.name, model, corpus, {
    rotary: model.rotary ? (options.rotary ?? 'post') : undefined,
    signal,
    onProgress: (p) => onProgress?.('extract', p.tokens, p.totalTokens),
    afterBatch: afterStep,
  });
  const extracted = performance.now();
  const cells = data.layers * data.heads;
  const analysis = await analyzeHeads(data, { signal, onHead: (done) => onProgress?.('analyze', done, cells), afterHead: afterStep, helpers: options.helpers });
  const layouts = options.pca?.length ? await pcaLayouts(data, analysis.params, options.pca, { signal, afterHead: afterStep }) : [];
  return { data, analysis, layouts, extractMs: extracted - started, analyzeMs: performance.now() - extracted };
}
