// The model worker's logic, free of worker globals so it runs under test: fetch and verify
// the model, open it on the chosen device, warm it up (WebGPU compiles its kernels on the
// first batch), measure throughput, tokenize, extract and analyse — each stage reported
// under its own name, cancellable between steps. workers/model.worker.ts serves it.
import type { Analysis, HeadScore, ScoreHelper } from '../analysis/analyze';
import type { RunData } from '../data/layout';
import type { RunVectors } from '../store/vectors';
import { openRunBundle } from './bundleRun';
import { NORMALIZATION_MODES, type HeadNormalization, type NormalizationMode } from '../analysis/normalize';
import type { StoreRoot } from '../store/files';
import { RunReader } from '../store/runStore';
import { FIGURES_FILE, pendingAnalysis, runDataOfRecord, writeRunJson } from './stored';
import { scoreStoredRun } from './score';
import { CorpusError } from '../corpus/parse';
import { ModelFilesError, fetchManifest, modelBaseUrl } from '../model/catalog';
import { fetchModelBytes } from '../model/download';
import { type ModelManifest, graphBytesOf } from '../model/manifest';
import { loadTokenizer, tokenizerOfFiles } from '../model/tokenizer';
import { modelFolderName, storedKeyOf } from '../model/store';
import { readGraph } from './modelFiles';
import { type ModelStore, NO_MODEL_STORE } from './modelStore';
import type { ErrorKind, ModelRef, Preparation, RunOptions, RunProgress, RunResult, ScoreProgress, ScoreRequest, StoredRunExtra } from './types';
import type { CallContext } from '../worker/rpc';
import { extractQueryKeys } from '../engine/extract';
import { CancelledError, throwIfAborted } from '../util/cancel';
import { CorpusTooLargeError, assertFitsDisk, assertFitsMemory } from './plan';
import { type DecodedImage, ImageCorpusError, imageCorpus } from '../corpus/images';
import { ImageProcessorError, parseImageProcessor } from '../image/preprocess';
import { prepareCorpus, runIntoStore } from './pipeline';
import { transferablesOf } from './transfer';
import { type ModelGraph, type ModelRunner, type OrtModule, ModelLoadError, devicePlan, openModel } from '../engine/runtime';
import { type TokenizedCorpus, tokenizeCorpus } from '../corpus/tokenize';
import { yieldToEvents } from '../worker/yield';
import { everyMegabyte } from '../util/throttle';

type Context = CallContext<RunProgress>;
type Tokenizer = Awaited<ReturnType<typeof loadTokenizer>>;

/** Tokens the warm-up batch carries: enough to touch every kernel, small enough to be quick. */
const WARMUP_TOKENS = 48;
/** Tokens throughput is measured on after warm-up (a few batches, about a second on WASM)… */
const CALIBRATION_TOKENS = 1000;
/** …or fewer, when the device is slow: measuring stops after this long. */
const CALIBRATION_MS = 1500;
/** Tokens run untimed first, so the batch sizes the measurement uses have their buffers allocated. */
const SETTLE_TOKENS = 300;

/** Lets queued messages (a cancel) in between long synchronous steps. */

export function errorKind(e: unknown): ErrorKind {
  if (e instanceof CorpusError) return 'corpus';
  if (e instanceof CorpusTooLargeError) return 'memory';
  if (e instanceof ModelFilesError || e instanceof ModelLoadError) return 'model';
  return 'internal';
}

/** The first sentences of a corpus up to about `tokens` tokens (at least one). */
function slice(corpus: TokenizedCorpus, tokens: number): TokenizedCorpus {
  const sentences = [];
  let count = 0;
  for (const s of corpus.sentences) {
    if (sentences.length && count + s.ids.length > tokens) break;
    sentences.push({ ...s, start: count });
    count += s.ids.length;
  }
  const pixels = corpus.pixels && { ...corpus.pixels, values: corpus.pixels.values.slice(0, sentences.length) };
  return { sentences, tokenCount: count, notices: [], ...(pixels ? { pixels } : {}) };
}

/** A vision model's warm-up and calibration corpus: a few mid-grey pictures of its input size. */
function greyImages(manifest: ModelManifest, count: number): DecodedImage[] {
  const [height, width] = manifest.image!.size;
  return Array.from({ length: count }, (_, i) => ({ name: `grey ${i + 1}`, width, height, rgb: new Uint8Array(width * height * 3).fill(128 + i) }));
}

/** What a vision model reads: the images, preprocessed as its preprocessor_config.json says; refused in words when there are none. */
function imagesFor(manifest: ModelManifest, images: DecodedImage[] | undefined): TokenizedCorpus {
  if (!images?.length) throw new CorpusError(`${manifest.name} reads images: add images (PNG, JPEG or WebP), or use the default image set`);
  try {
    const corpus = imageCorpus(images, manifest.image!, parseImageProcessor(manifest.image!.processor));
    assertFitsMemory(
      manifest,
      corpus.sentences.map((s) => s.ids.length),
    );
    return corpus;
  } catch (e) {
    if (e instanceof ImageCorpusError || e instanceof ImageProcessorError) throw new CorpusError(e.message);
    throw e;
  }
}

interface Opened {
  key: string;
  runner: ModelRunner;
  /** Kept for measuring WASM beside WebGPU; dropped on WASM (a large model's weights are not held twice). */
  graph: ModelGraph | null;
  warmed: boolean;
}

export class ModelService {
  /** The model's manifest, and its tokenizer (null for a vision model: it reads images). */
  private model?: { key: string; manifest: ModelManifest; tokenizer: Tokenizer | null };
  private session?: Opened;

  /** `scorers`: helper workers to share the scoring with (the browser's model worker starts them; none in Node). */
  constructor(
    private ort: OrtModule,
    /** Where runs are stored (the page's Origin Private File System; memory or disk in Node). */
    private runs: () => Promise<StoreRoot>,
    private scorers: () => ScoreHelper[] = () => [],
    /** Models opened by hub id or folder (the browser's IndexedDB in the model worker). */
    private store: ModelStore = NO_MODEL_STORE,
  ) {}

  /** Loads the model and measures extraction throughput on a sample, before any run. */
  async prepare(request: ModelRef & { sample: string[]; measureWasm: boolean }, context: Context): Promise<Preparation> {
    const { manifest, tokenizer } = await this.modelOf(request);
    const sample = manifest.image
      ? imagesFor(manifest, greyImages(manifest, Math.max(1, Math.ceil(CALIBRATION_TOKENS / manifest.maxTokens))))
      : tokenizeCorpus(tokenizer!, request.sample.length ? request.sample : ['Hello.'], manifest.maxTokens);
    const opened = await this.open(request, manifest, context);
    const warmupMs = await this.warmUp(opened, manifest, sample, context);
    const tokensPerSecond = await measure(opened.runner, manifest, sample, context);
    let wasmTokensPerSecond: number | undefined;
    if (request.measureWasm && opened.runner.report.device !== 'wasm' && opened.graph) {
      const wasm = await openModel(this.ort, opened.graph, ['wasm']);
      try {
        await extractQueryKeys(wasm, manifest.name, manifest, slice(sample, WARMUP_TOKENS));
        wasmTokensPerSecond = await measure(wasm, manifest, sample, context);
      } finally {
        await wasm.release().catch(() => {});
      }
    }
    return { device: opened.runner.report, tokensPerSecond, wasmTokensPerSecond, warmupMs };
  }

  async run(request: ModelRef & RunOptions, context: Context): Promise<RunResult> {
    const { signal } = context;
    const t0 = performance.now();
    // Tokenize and check the memory and the disk first: a refusal should not wait for the model download.
    const { manifest, tokenizer } = await this.modelOf(request);
    if (!manifest.image && request.sentences.length === 0) throw new CorpusError('the corpus is empty: give at least one sentence (one per line)');
    const total = manifest.image ? (request.images?.length ?? 0) : request.sentences.length;
    context.progress({ stage: 'tokenize', done: 0, total });
    const corpus = manifest.image ? imagesFor(manifest, request.images) : prepareCorpus(tokenizer!, request.sentences, manifest);
    const root = await this.runs();
    await assertFitsDisk(root, manifest, corpus, request.dtype, request.rotary === 'pre' && !!manifest.rotary);
    context.progress({ stage: 'tokenize', done: total, total });
    const t1 = performance.now();

    const opened = await this.open(request, manifest, context);
    const t2 = performance.now();
    const warmupMs = await this.warmUp(opened, manifest, corpus, context);

    const device = () => opened.runner.report;
    const draft = await runIntoStore(opened.runner, manifest, corpus, {
      root,
      id: request.id,
      dtype: request.dtype,
      rotary: request.rotary,
      pca: request.pca,
      signal,
      onProgress: (stage, done, total) => context.progress({ stage, done, total, device: device() }),
      afterStep: yieldToEvents,
    });
    const analysis = pendingAnalysis(draft.data, draft.heads);
    const timings = {
      tokenizeMs: t1 - t0,
      loadMs: t2 - t1,
      warmupMs,
      extractMs: draft.extractMs,
      modelMs: draft.times.modelMs,
      storeMs: draft.times.sinkMs,
      analyzeMs: draft.analyzeMs,
      analysisThreads: 1,
    };
    const extra: StoredRunExtra = {
      manifest,
      device: device(),
      notices: corpus.notices,
      timings,
      attentionError: analysis.attentionCheck.maxAbsError,
      analysis,
      corpus: request.sentences,
      label: request.label,
      corpusHash: request.corpusHash,
    };
    await draft.writer.finish(extra);
    const result: RunResult = {
      manifest,
      device: device(),
      data: draft.data,
      vectors: { kind: 'store', id: request.id },
      analysis,
      layouts: draft.layouts,
      notices: corpus.notices,
      attentionError: extra.attentionError,
      timings,
    };
    context.transfer(...transferablesOf(result));
    return result;
  }

  /** A stored run's figures (every head under every mode), written beside it so the cache has them too. */
  async score(request: ScoreRequest, context: CallContext<ScoreProgress>): Promise<HeadScore[]> {
    const root = 'id' in request ? await this.runs() : null;
    let reader: RunVectors;
    let data: RunData;
    let params: Analysis['params'];
    if ('id' in request) {
      const stored = await RunReader.open<StoredRunExtra>(root!, request.id);
      reader = stored;
      data = runDataOfRecord(stored.record, await stored.attentionSample());
      params = stored.record.extra.analysis.params;
    } else {
      // A bundle written without its figures (qkviz in Python): read in place, scored, nothing saved.
      const file = request.bundle;
      const bundle = await openRunBundle({ size: file.size, read: async (a, b) => new Uint8Array(await file.slice(a, b).arrayBuffer()) }, Infinity);
      if (!bundle.vectors) throw new Error('this bundle holds no queries and keys to score');
      reader = bundle.vectors;
      data = bundle.result.data;
      params = bundle.result.analysis.params;
    }
    const perHead = Array.from(
      { length: data.layers * data.heads },
      (_, c) => Object.fromEntries(NORMALIZATION_MODES.map((m) => [m, params[m][c]])) as Record<NormalizationMode, HeadNormalization>,
    );
    const helpers = this.scorers().slice(0, request.analysisThreads ? Math.max(0, request.analysisThreads - 1) : undefined);
    const scores = await scoreStoredRun(reader, data, perHead, {
      helpers,
      signal: context.signal,
      onHead: (done, total) => context.progress({ done, total }),
      afterHead: yieldToEvents,
    });
    if ('id' in request) await writeRunJson(root!, request.id, FIGURES_FILE, scores);
    return scores;
  }

  private async modelOf(request: ModelRef) {
    const key = `${request.modelsUrl}|${request.model}`;
    if (this.model?.key !== key) {
      const stored = storedKeyOf(request.model);
      if (stored) {
        const [{ manifest }, files] = await Promise.all([this.store.entry(stored), this.store.files(stored)]);
        this.model = { key, manifest, tokenizer: manifest.image ? null : await tokenizerOfFiles(files) };
      } else {
        const manifest = await fetchManifest(request.modelsUrl, request.model);
        const tokenizer = manifest.image ? null : await loadTokenizer({ kind: 'local', modelsPath: request.modelsUrl, name: request.model });
        this.model = { key, manifest, tokenizer };
      }
    }
    return this.model;
  }

  /** The model's session on the requested device: kept between calls for the same model and device. */
  private async open(request: ModelRef, manifest: ModelManifest, context: Context): Promise<Opened> {
    const key = `${request.modelsUrl}|${request.model}|${request.device}|${manifest.onnx.sha256}`;
    if (this.session?.key === key) return this.session;
    await this.session?.runner.release().catch(() => {});
    this.session = undefined;
    const graph = await this.graph(request, manifest, context);
    throwIfAborted(context.signal);
    context.progress({ stage: 'compile', done: 0, total: 1 });
    const plan = devicePlan(request.device);
    const runner = await openModel(this.ort, graph, plan.candidates, { allowSoftwareAdapter: plan.allowSoftwareAdapter });
    if (context.signal.aborted) {
      await runner.release().catch(() => {});
      throw new CancelledError();
    }
    this.session = { key, runner, graph: runner.report.device === 'wasm' ? null : graph, warmed: false };
    return this.session;
  }

  /** The graph: from the browser's model store, or downloaded from /models and checked against its manifest. */
  private async graph(request: ModelRef, manifest: ModelManifest, context: Context): Promise<ModelGraph> {
    const stored = storedKeyOf(request.model);
    const total = graphBytesOf(manifest);
    if (stored) {
      context.progress({ stage: 'download', done: 0, total });
      const folder = await (await this.store.graphRoot()).folder(modelFolderName(stored));
      if (!folder) throw new ModelFilesError(`The stored copy of ${manifest.name} is gone from this browser's storage: delete it and open the model again.`);
      const graph = await readGraph(folder, manifest);
      context.progress({ stage: 'download', done: total, total });
      return graph;
    }
    const base = modelBaseUrl(request.modelsUrl, request.model);
    const bytes = await fetchModelBytes(
      `${base}${manifest.onnx.file}`,
      manifest,
      everyMegabyte((done, total) => context.progress({ stage: 'download', done, total })),
      context.signal,
    );
    // External data files (a large converted model) are fetched by onnxruntime itself, by URL.
    const here = (globalThis as { location?: { href: string } }).location?.href ?? 'http://localhost/';
    return {
      bytes,
      data: manifest.data?.map((d) => ({ path: d.file, data: `${new URL(base, here).href}${d.file}` })),
      float16: manifest.weights === 'float16',
    };
  }

  /** Runs one small batch once per session, so that kernel compilation is its own stage. */
  private async warmUp(opened: Opened, manifest: ModelManifest, corpus: TokenizedCorpus, context: Context): Promise<number> {
    if (opened.warmed) return 0;
    const started = performance.now();
    context.progress({ stage: 'warmup', done: 0, total: 1, device: opened.runner.report });
    await extractQueryKeys(opened.runner, manifest.name, manifest, slice(corpus, WARMUP_TOKENS), { signal: context.signal });
    opened.warmed = true;
    return performance.now() - started;
  }
}

/** Tokens per second extracting up to CALIBRATION_TOKENS of a corpus, for at most CALIBRATION_MS. */
async function measure(runner: ModelRunner, manifest: ModelManifest, corpus: TokenizedCorpus, context: Context): Promise<number> {
  await extractQueryKeys(runner, manifest.name, manifest, slice(corpus, SETTLE_TOKENS), { signal: context.signal });
  const sample = slice(corpus, CALIBRATION_TOKENS);
  const enough = new AbortController();
  const stop = () => enough.abort();
  context.signal.addEventListener('abort', stop);
  const started = performance.now();
  const timer = setTimeout(stop, CALIBRATION_MS);
  let tokens = 0;
  try {
    await extractQueryKeys(runner, manifest.name, manifest, sample, {
      // A run asks the model for attention on a few sentences only: none here.
      sample: new Int32Array(0),
      signal: enough.signal,
      onProgress: (p) => {
        tokens = p.tokens;
        context.progress({ stage: 'extract', done: p.tokens, total: p.totalTokens, device: runner.report });
      },
      afterBatch: yieldToEvents,
    });
  } catch (e) {
    if (!(e instanceof CancelledError) || context.signal.aborted) throw e;
  } finally {
    clearTimeout(timer);
    context.signal.removeEventListener('abort', stop);
  }
  return tokens / ((performance.now() - started) / 1000);
}
