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
import { type FinishedHead, HeadSums } from '../analysis/sums';
import { plainAttention } from '../data/attention';
import { type ImageSpec, type RunData, corpusLayout, imageLayout, kvHeadsOf } from '../data/layout';
import { type ExtractionTimes, extractWindows } from '../engine/extract';
import { type HeadPca, pcaOfMoments, projectOnPca } from '../projection/pcaMoments';
import type { StoreRoot } from '../store/files';
import { type RunReader, RunWriter, type StoredShape, type VectorDtype } from '../store/runStore';
import { throwIfAborted } from '../util/cancel';
import { seededRandom } from '../util/random';
import { SAMPLE_SEED, overviewOf, overviewPoints, sampleOrder } from '../views/lod';

/** What the pipeline needs to know of a model. */
export interface PipelineModel extends ExtractionShape {
  name: string;
  maxTokens: number;
  /** Rotary positions: the graph outputs Q and K before and after the rotation. */
  rotary?: boolean;
  /** A vision model: what its images are. */
  image?: ImageSpec;
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

export interface StoreRunOptions extends PipelineOptions {
  root: StoreRoot;
  id: string;
  /** How the store keeps the vectors (float16: half the disk, ~3 significant digits). */
  dtype: VectorDtype;
  /** Hand every head's full PCA layouts even past the overview's share (a bundle holds them whole). */
  fullLayouts?: boolean;
  /** Bytes of Q/K an extraction window holds (tests make windows small). */
  windowBytes?: number;
}

/** A run whose vectors are stored and analysed, waiting for its record (run.json) to be written by the caller. */
export interface StoredRunDraft {
  writer: RunWriter;
  vectors: RunReader<null>;
  data: RunData;
  /** Per head (cell order): its normalizations, attention figures and check. */
  heads: FinishedHead[];
  layouts: PcaLayouts[];
  extractMs: number;
  analyzeMs: number;
  /** Of the extraction: the model's calls, and the store's writes with the heads' sums. */
  times: ExtractionTimes;
}

/**
 * The page's run: each window's queries and keys go to the store and into every head's sums
 * as the model produces them, so when the last batch is in, what is left is one pass over
 * each head's stored vectors — the paper scale, then the first views' PCA from the moments.
 * The figures (scoreStoredRun) come after the matrix is on screen.
 */
export async function runIntoStore(runner: ModelRunner, model: PipelineModel, corpus: TokenizedCorpus, options: StoreRunOptions): Promise<StoredRunDraft> {
  const { signal, onProgress, afterStep } = options;
  const { layers: L, heads: H, headDim: D } = model;
  const cells = L * H;
  const rotary = model.rotary ? (options.rotary ?? 'post') : undefined;
  const attention = model.attention ?? plainAttention(L, D);
  const shape: StoredShape = {
    model: model.name,
    layers: L,
    heads: H,
    headDim: D,
    kvHeads: kvHeadsOf(model),
    causal: model.causal ?? false,
    ...(rotary ? { rotary } : {}),
  };
  const images = model.image && corpus.pixels ? { layout: imageLayout(model.image), pictures: corpus.pixels.pictures } : undefined;
  const writer = await RunWriter.begin(options.root, {
    id: options.id,
    shape,
    attention,
    dtype: options.dtype,
    sentences: corpus.sentences,
    ...(images ? { images } : {}),
  });
  try {
    const sums = Array.from({ length: cells }, (_, c) => new HeadSums(D, attention[Math.floor(c / H)], shape.causal, images?.layout.specials ?? 0));
    const { sentenceStarts } = corpusLayout(corpus.sentences.map((s) => s.ids.length));
    const KV = shape.kvHeads;
    const started = performance.now();
    onProgress?.('extract', 0, corpus.tokenCount);
    const times: ExtractionTimes = { modelMs: 0, sinkMs: 0 };
    const sample = await extractWindows(
      runner,
      model,
      corpus,
      async (w) => {
        await writer.window(w);
        const starts = sentenceStarts.slice(w.sentenceStart, w.sentenceEnd + 1).map((r) => r - w.rowStart);
        const size = w.sampled.values.length / cells;
        const span = w.rows * D;
        for (let c = 0; c < cells; c++) {
          const kc = Math.floor(c / H) * KV + Math.floor((c % H) / (H / KV));
          const view = (a: Float32Array, cell: number) => a.subarray(cell * span, (cell + 1) * span);
          sums[c].add(
            {
              q: view(w.queries, c),
              k: view(w.keys, kc),
              qa: w.rotated && view(w.rotated.queries, c),
              ka: w.rotated && view(w.rotated.keys, kc),
              vn: w.valueNorms?.subarray(c * w.rows, (c + 1) * w.rows),
              sentenceStarts: starts,
            },
            { sentences: w.sampled.sentences, values: w.sampled.values.subarray(c * size, (c + 1) * size) },
          );
        }
      },
      { rotary, signal, onProgress: (p) => onProgress?.('extract', p.tokens, p.totalTokens), afterBatch: afterStep, windowBytes: options.windowBytes },
      times,
    );
    writer.sample(sample);
    const vectors = await writer.closeVectors();
    const extracted = performance.now();
    // What is left: a pass over each head's stored vectors.
    const heads: FinishedHead[] = [];
    const views = options.pca ?? [];
    // Past the overview's share of points per head, a run hands over each head's overview only
    // (its full layouts would be every point of every head: 360 MB a view at 200k tokens).
    const share = overviewPoints(L, H, corpus.tokenCount);
    const order = share < 2 * corpus.tokenCount && !options.fullLayouts ? sampleOrder(sentenceStarts, corpus.tokenCount, seededRandom(SAMPLE_SEED)) : null;
    const layouts: PcaLayouts[] = views.map((view) => ({ view, heads: [], ...(order ? { sampled: true } : {}) }));
    for (let c = 0; c < cells; c++) {
      throwIfAborted(signal);
      const { q, k } = await vectors.head(c);
      const finished = sums[c].finish(k);
      heads.push(finished);
      const pcas = new Map<string, HeadPca>();
      views.forEach(({ mode, dims }, v) => {
        let pca = pcas.get(mode);
        if (!pca) pcas.set(mode, (pca = pcaOfMoments(finished.moments.q, finished.moments.k, finished.params[mode], 3)));
        const components = dims === 3 ? pca : { ...pca, components: pca.components.subarray(0, dims * D) };
        const coords = projectOnPca(q, k, D, finished.params[mode], components, dims);
        layouts[v].heads.push(order ? overviewOf(coords, order, share, dims) : coords);
      });
      onProgress?.('analyze', c + 1, cells);
      await afterStep?.();
    }
    const data: RunData = {
      model: model.name,
      layers: L,
      heads: H,
      headDim: D,
      kvHeads: KV,
      causal: shape.causal,
      ...(rotary ? { rotary } : {}),
      tokenCount: corpus.tokenCount,
      sentences: corpus.sentences,
      sentenceStarts,
      attention,
      attentionSample: sample,
      ...(vectors.hasValueNorms ? { hasValueNorms: true } : {}),
      ...(images ? { images: images.layout } : {}),
    };
    return { writer, vectors, data, heads, layouts, extractMs: extracted - started, analyzeMs: performance.now() - extracted, times };
  } catch (e) {
    await writer.abort(options.root);
    throw e;
  }
}
