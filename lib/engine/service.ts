// The model worker's logic, free of worker globals so it can run under test: fetch and
// verify the model, tokenize, extract, analyse, and report progress; cancellable between
// steps. The worker file only wires this to postMessage.
import { analyzeHeads } from '../analysis/analyze';
import { CorpusError } from '../corpus/parse';
import { ModelFilesError, fetchManifest, modelBaseUrl } from '../model/catalog';
import { fetchModelBytes } from '../model/download';
import type { ModelManifest } from '../model/manifest';
import { loadTokenizer } from '../model/tokenizer';
import { type DevicePreference, type ErrorKind, type ModelReply, type ModelRequest, type RunResult, transferablesOf } from '../protocol/model';
import { checkAttention } from './attentionCheck';
import { CancelledError, extractQueryKeys } from './extract';
import { MAX_SENTENCES } from './limits';
import { CorpusTooLargeError, assertFitsMemory } from './memory';
import { type Device, ModelLoadError, type ModelRunner, type OrtModule, openModel } from './runtime';
import { tokenizeCorpus } from './tokens';

type Post = (reply: ModelReply, transfer?: ArrayBuffer[]) => void;

/** Lets queued messages (a cancel) in between long synchronous steps. */
const yieldToEvents = () => new Promise<void>((resolve) => setTimeout(resolve, 0));

/** 'webgpu' and 'auto' both fall back to WASM when no adapter works; only 'wasm' skips the GPU. */
function devicesFor(preference: DevicePreference): Device[] {
  return preference === 'wasm' ? ['wasm'] : ['webgpu', 'wasm'];
}

function classify(e: unknown): { kind: ErrorKind; message: string } {
  const message = e instanceof Error ? e.message : String(e);
  if (e instanceof CorpusError) return { kind: 'corpus', message };
  if (e instanceof CorpusTooLargeError) return { kind: 'memory', message };
  if (e instanceof ModelFilesError || e instanceof ModelLoadError) return { kind: 'model', message };
  return { kind: 'internal', message: `the run failed: ${message}` };
}

export class ModelService {
  private runs = new Map<number, AbortController>();
  /** The opened model is kept between runs of the same model and device preference. */
  private cached?: { key: string; manifest: ModelManifest; runner: ModelRunner; tokenizer: Awaited<ReturnType<typeof loadTokenizer>> };

  constructor(
    private ort: OrtModule,
    private post: Post,
  ) {}

  handle(request: ModelRequest): void {
    if (request.type === 'cancel') {
      this.runs.get(request.id)?.abort();
      return;
    }
    void this.run(request);
  }

  private async open(request: Extract<ModelRequest, { type: 'run' }>, signal: AbortSignal) {
    const key = `${request.modelsUrl}|${request.model}|${request.device}`;
    if (this.cached?.key === key) {
      this.post({ type: 'progress', id: request.id, stage: 'load', done: 1, total: 1 });
      return this.cached;
    }
    await this.cached?.runner.release().catch(() => {});
    this.cached = undefined;
    const manifest = await fetchManifest(request.modelsUrl, request.model);
    const url = `${modelBaseUrl(request.modelsUrl, request.model)}${manifest.onnx.file}`;
    let last = 0;
    const bytes = await fetchModelBytes(
      url,
      manifest,
      (done, total) => {
        // A reply per ~1% is plenty for a progress bar.
        if (done - last >= total / 100 || done === total) {
          last = done;
          this.post({ type: 'progress', id: request.id, stage: 'load', done, total });
        }
      },
      signal,
    );
    if (signal.aborted) throw new CancelledError();
    const tokenizer = await loadTokenizer({ kind: 'local', modelsPath: request.modelsUrl, name: request.model });
    const runner = await openModel(this.ort, bytes, devicesFor(request.device));
    this.cached = { key, manifest, runner, tokenizer };
    return this.cached;
  }

  private async run(request: Extract<ModelRequest, { type: 'run' }>): Promise<void> {
    const { id } = request;
    const controller = new AbortController();
    this.runs.set(id, controller);
    const signal = controller.signal;
    const t0 = performance.now();
    try {
      if (request.sentences.length === 0) throw new CorpusError('the corpus is empty: give at least one sentence (one per line)');
      if (request.sentences.length > MAX_SENTENCES) {
        throw new CorpusTooLargeError(`This corpus has ${request.sentences.length.toLocaleString('en-US')} sentences; QKViz takes at most ${MAX_SENTENCES.toLocaleString('en-US')} per run.`);
      }
      const { manifest, runner, tokenizer } = await this.open(request, signal);
      this.post({ type: 'device', id, device: runner.report });
      const t1 = performance.now();

      this.post({ type: 'progress', id, stage: 'tokenize', done: 0, total: request.sentences.length });
      const corpus = tokenizeCorpus(tokenizer, request.sentences, manifest.maxTokens);
      assertFitsMemory(manifest, corpus.sentences.map((s) => s.ids.length));
      this.post({ type: 'progress', id, stage: 'tokenize', done: request.sentences.length, total: request.sentences.length });
      const t2 = performance.now();

      const data = await extractQueryKeys(runner, manifest.name, manifest, corpus, {
        signal,
        onProgress: (p) => this.post({ type: 'progress', id, stage: 'extract', done: p.tokens, total: p.totalTokens }),
        afterBatch: yieldToEvents,
      });
      this.post({ type: 'device', id, device: runner.report });
      const t3 = performance.now();

      const attentionError = checkAttention(data).maxAbsError;
      const total = data.layers * data.heads;
      const analysis = await analyzeHeads(data, {
        signal,
        onHead: (done) => this.post({ type: 'progress', id, stage: 'normalize', done, total }),
        afterHead: yieldToEvents,
      });
      const t4 = performance.now();
      const result: RunResult = {
        manifest,
        device: runner.report,
        data,
        analysis,
        notices: corpus.notices,
        attentionError,
        timings: { loadMs: t1 - t0, tokenizeMs: t2 - t1, extractMs: t3 - t2, normalizeMs: t4 - t3 },
      };
      this.post({ type: 'result', id, result }, transferablesOf(result));
    } catch (e) {
      if (signal.aborted || e instanceof CancelledError) this.post({ type: 'cancelled', id });
      else this.post({ type: 'error', id, ...classify(e) });
    } finally {
      this.runs.delete(id);
    }
  }
}
