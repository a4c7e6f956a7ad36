// What the app does, outside React: opening (model manifest, default corpus, the last cached
// run or a shared link's), choosing and counting a corpus in the corpus worker, preparing the
// model and measuring the device, running and cancelling, showing a result (which starts its
// projections), caching runs, and keeping the address bar in step with the view.
import { corpusFacts } from '@/lib/corpus/count';
import { CorpusError, corpusFormatOf, parseCorpus } from '@/lib/corpus/parse';
import { StageClock, slowerThanWasm } from '@/lib/engine/progress';
import { fetchManifest, fetchModelsIndex } from '@/lib/model/catalog';
import { corpusHash, modelId } from '@/lib/projection/cacheKey';
import type { CorpusApi } from '@/lib/protocol/corpus';
import { DEVICE_PREFERENCES, type DevicePreference, type ModelApi, type RunProgress } from '@/lib/protocol/model';
import { readViewState, writeViewState } from '@/lib/views/urlState';
import { CallCancelledError, RpcError, WorkerClient, WorkerCrashedError } from '@/lib/worker/rpc';
import { cacheUsage, clearCache, findRun, loadRun, saveRun } from '../cache/runCache';
import { LayoutStore, type LayoutView } from '../projection/LayoutStore';
import { ProjectionScheduler } from '../projection/ProjectionScheduler';
import { type CorpusDraft, type ShownResult, appStore } from '../state/appStore';
import { storeDevice, storeThroughput, storedDevice, storedThroughput } from '../state/prefs';
import { type ViewState, viewNewResult, viewStore } from '../state/viewStore';

export const MODELS_URL = '/models';
const DEFAULT_CORPUS_URL = '/corpus/default.txt';
/** Typing pauses this long before a changed corpus is counted. */
const COUNT_DEBOUNCE_MS = 250;
/** Sentences of the corpus the device is measured on before the first run (spread over it, so long and short ones count). */
const PREPARE_SAMPLE_SENTENCES = 80;
/** Address bar updates wait for the view to settle this long. */
const URL_DEBOUNCE_MS = 200;

const set = appStore.setState;
const get = appStore.getState;

const modelClient = new WorkerClient<ModelApi>(() => new Worker(new URL('../../workers/model.worker.ts', import.meta.url), { type: 'module' }) as never, 'model');
const corpusClient = new WorkerClient<CorpusApi>(() => new Worker(new URL('../../workers/corpus.worker.ts', import.meta.url), { type: 'module' }) as never, 'corpus');

/** The layouts the current view shows: one pane, or the two of a compare mode. */
export function shownViews(v: Pick<ViewState, 'mode' | 'method' | 'dims' | 'compare'>): LayoutView[] {
  const main: LayoutView = { mode: v.mode, method: v.method, dims: v.dims };
  if (v.compare === 'projection') return [{ ...main, method: 'pca' }, { ...main, method: 'umap' }];
  if (v.compare === 'normalization' && v.mode !== 'raw') return [{ ...main, mode: 'raw' }, main];
  return [main];
}

// ---------------------------------------------------------------- opening

let started = false;

export async function startApp(): Promise<void> {
  if (started) return;
  started = true;
  const params = new URLSearchParams(window.location.search);
  const link = readViewState(params);
  const urlDevice = params.get('device') as DevicePreference | null;
  const device = (urlDevice && DEVICE_PREFERENCES.includes(urlDevice) ? urlDevice : null) ?? storedDevice() ?? 'auto';
  set({ device, link: Object.keys(link).length ? link : null });
  followView();
  try {
    const index = await fetchModelsIndex(MODELS_URL);
    const requested = params.get('model');
    if (requested !== null && !index.models.includes(requested)) {
      throw new Error(
        `Model "${requested}" has not been converted here (available: ${index.models.join(', ')}). ` +
          `Convert it with \`npm run setup:model -- --hub ${requested} --name ${requested}\` or --from-dir.`,
      );
    }
    const manifest = await fetchManifest(MODELS_URL, requested ?? index.default);
    set({ manifest });
    const res = await fetch(DEFAULT_CORPUS_URL);
    if (!res.ok) throw new Error(`the default corpus (${DEFAULT_CORPUS_URL}) could not be loaded: HTTP ${res.status}`);
    const defaultText = await res.text();
    const defaultHash = await corpusHash(parseCorpus(defaultText).sentences);
    set({ defaultText, defaultHash });
    setDraft({ source: 'default' });
    const untouched = get().draft;

    performance.mark('qkviz:opened');
    const cached = await findRun(modelId(manifest.name, manifest.onnx.sha256), link.corpus);
    const record = cached && (await loadRun(cached));
    performance.mark('qkviz:cache-read');
    void refreshCacheUsage();
    // Someone who chose a corpus or pressed Run while the cache was read keeps what they asked for.
    if (get().draft !== untouched || get().run.status !== 'idle' || get().shown !== null) return;
    if (cached && record) {
      // The corpus card shows the corpus the matrix came from.
      if (cached.corpusHash !== defaultHash) setDraft({ source: 'paste', pasted: record.sentences.join('\n') });
      showResult({ result: record.result, source: 'cache', hash: cached.corpusHash, label: cached.label, savedAt: cached.savedAt });
      return;
    }
    if (link.corpus && defaultHash.startsWith(link.corpus)) {
      // A link made with the default corpus runs by itself.
      void runCorpus();
      return;
    }
    if (link.corpus) {
      set({ linkNotice: `This link was made with a corpus (hash ${link.corpus}) that this browser has not run. Paste that corpus and press Run to see the shared view.` });
    }
    void prepareModel();
  } catch (e) {
    set({ loadError: (e as Error).message });
  }
}

// ---------------------------------------------------------------- the corpus

let countAbort: AbortController | null = null;
let countTimer: ReturnType<typeof setTimeout> | undefined;

export function setDraft(patch: Partial<CorpusDraft>): void {
  const draft = { ...get().draft, ...patch };
  const text = draft.source === 'default' ? get().defaultText : draft.source === 'paste' ? draft.pasted : (draft.upload?.text ?? null);
  let corpus = null;
  let problem: string | null = null;
  if (draft.source === 'upload' && draft.uploadError) problem = draft.uploadError;
  else if (text !== null) {
    try {
      const parsed = parseCorpus(text, draft.source === 'upload' && draft.upload ? corpusFormatOf(draft.upload.name) : 'txt');
      const label = draft.source === 'default' ? 'Default corpus' : draft.source === 'paste' ? 'Pasted text' : (draft.upload?.name ?? '');
      corpus = { label, sentences: parsed.sentences, blankLines: parsed.blankLines, rejected: parsed.rejected.length, hash: null };
    } catch (e) {
      problem = e instanceof CorpusError ? `Cannot run on this corpus: ${e.message}.` : String(e);
    }
  }
  const same = get().corpus?.sentences.join('\n') === corpus?.sentences.join('\n');
  set({ draft, corpus: same && corpus ? { ...corpus, hash: get().corpus!.hash } : corpus, corpusProblem: problem });
  if (same && get().count.status !== 'idle') return;
  if (corpus) {
    const sentences = corpus.sentences;
    void corpusHash(sentences).then((hash) => {
      const now = get().corpus;
      if (now && now.sentences === sentences) set({ corpus: { ...now, hash } });
    });
  }
  scheduleCount();
}

export async function readUpload(file: File): Promise<void> {
  const bytes = new Uint8Array(await file.arrayBuffer());
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    setDraft({ upload: null, uploadError: `Cannot read ${file.name}: it is not UTF-8 text. Upload a .txt (one sentence per line) or .jsonl file.` });
    return;
  }
  if (text.includes('\u0000')) {
    setDraft({ upload: null, uploadError: `Cannot read ${file.name}: it is not text (it contains binary data). Upload a .txt or .jsonl file.` });
    return;
  }
  setDraft({ upload: { name: file.name, text }, uploadError: null });
}

function scheduleCount(): void {
  clearTimeout(countTimer);
  countAbort?.abort();
  const { corpus, manifest } = get();
  if (!corpus || !manifest) {
    set({ count: { status: 'idle' } });
    return;
  }
  const total = corpus.sentences.length;
  set({ count: { status: 'counting', done: 0, total } });
  countTimer = setTimeout(async () => {
    const controller = new AbortController();
    countAbort = controller;
    try {
      const { lengths } = await corpusClient.call(
        'count',
        { modelsUrl: MODELS_URL, model: manifest.name, sentences: corpus.sentences },
        { signal: controller.signal, onProgress: (p) => !controller.signal.aborted && set({ count: { status: 'counting', ...p } }) },
      );
      if (!controller.signal.aborted) set({ count: { status: 'done', facts: corpusFacts(lengths, manifest) } });
    } catch (e) {
      if (!controller.signal.aborted) set({ count: { status: 'error', message: `Counting the tokens failed: ${(e as Error).message}` } });
    }
  }, COUNT_DEBOUNCE_MS);
}

// ---------------------------------------------------------------- device and model

/** Every k-th sentence, `n` in all: a sample with the corpus's mix of lengths. */
const spread = (sentences: string[], n: number) => (sentences.length <= n ? sentences : Array.from({ length: n }, (_, i) => sentences[Math.floor((i * sentences.length) / n)]));

let preparing: Promise<void> | null = null;
let prepareAbort: AbortController | null = null;

export function setDevice(device: DevicePreference): void {
  if (device === get().device) return;
  set({ device, prepared: null });
  storeDevice(device);
  syncUrlSoon();
  if (get().run.status !== 'running') void prepareModel();
}

/** Loads the model on the chosen device and measures its throughput, so the page can say how long a run takes. */
export async function prepareModel(): Promise<void> {
  const { manifest, device, corpus } = get();
  if (!manifest) return;
  prepareAbort?.abort();
  const controller = new AbortController();
  prepareAbort = controller;
  const run = async () => {
    await preparing?.catch(() => {});
    if (controller.signal.aborted) return;
    set({ preparing: { stage: 'download', done: 0, total: manifest.onnx.bytes } });
    try {
      const prepared = await modelClient.call(
        'prepare',
        { modelsUrl: MODELS_URL, model: manifest.name, device, sample: spread(corpus?.sentences ?? [], PREPARE_SAMPLE_SENTENCES), measureWasm: device !== 'wasm' && !storedThroughput(manifest.name, 'wasm') },
        // Never terminate the worker to stop measuring: it holds the model the run will use.
        { signal: controller.signal, graceMs: 600_000, onProgress: (p) => set({ preparing: p }) },
      );
      storeThroughput(manifest.name, prepared.device.device, { calibrated: prepared.tokensPerSecond });
      if (prepared.wasmTokensPerSecond) storeThroughput(manifest.name, 'wasm', { calibrated: prepared.wasmTokensPerSecond });
      if (!controller.signal.aborted) set({ prepared: { ...prepared, model: manifest.name, preference: device } });
    } catch {
      // The run reports the same problem, with its own message, when it is asked for.
    } finally {
      if (prepareAbort === controller) set({ preparing: null });
    }
  };
  const p = run();
  preparing = p;
  await p;
}

// ---------------------------------------------------------------- running

let runAbort: AbortController | null = null;

export async function runCorpus(): Promise<void> {
  const { manifest, corpus, count, run, device } = get();
  if (!manifest || !corpus || run.status === 'running') return;
  if (count.status === 'done' && count.facts.refusal) {
    set({ run: { status: 'error', kind: 'refused', message: count.facts.refusal } });
    return;
  }
  // A run can start while the device is still being measured: the measuring stops (the model
  // it opened and warmed up stays open for the run); loading and warming up are not thrown away.
  if (get().preparing?.stage === 'extract') prepareAbort?.abort();
  const controller = new AbortController();
  runAbort = controller;
  const startedAt = performance.now();
  set({ run: { status: 'running', progress: get().preparing ?? { stage: 'tokenize', done: 0, total: corpus.sentences.length }, startedAt, etaMs: null, rate: null, slower: null } });
  await preparing?.catch(() => {});
  if (controller.signal.aborted) return;

  const prepared = get().prepared;
  const stored = (d: string) => storedThroughput(manifest.name, d);
  const clock = new StageClock((stage) => {
    const d = get().run.status === 'running' ? (get().run as { progress: RunProgress }).progress.device?.device : undefined;
    if (stage === 'extract') return (d ? (stored(d)?.extract ?? stored(d)?.calibrated) : undefined) ?? null;
    if (stage === 'analyze') {
      const rate = d ? stored(d)?.analyze : undefined;
      const heads = manifest.layers * manifest.heads;
      const tokens = get().count.status === 'done' ? (get().count as { facts: { tokens: number } }).facts.tokens : null;
      return rate && tokens ? (rate / tokens) * heads : null;
    }
    return null;
  });
  const wasmRate = stored('wasm')?.extract ?? prepared?.wasmTokensPerSecond ?? stored('wasm')?.calibrated;
  try {
    const result = await modelClient.call(
      'run',
      { modelsUrl: MODELS_URL, model: manifest.name, device, sentences: corpus.sentences },
      {
        signal: controller.signal,
        onProgress: (progress) => {
          const now = get().run;
          if (now.status !== 'running' || controller.signal.aborted) return;
          const { etaMs, rate, reports } = clock.update(progress, performance.now());
          const extracting = progress.stage === 'extract';
          const slower =
            now.slower ?? (extracting && progress.device?.device === 'webgpu' && slowerThanWasm(rate, wasmRate, reports) ? { webgpu: rate!, wasm: wasmRate! } : null);
          set({ run: { ...now, progress, etaMs, rate: extracting ? rate : now.rate, slower } });
        },
      },
    );
    const hash = corpus.hash ?? (await corpusHash(corpus.sentences));
    const { data, timings } = result;
    storeThroughput(manifest.name, result.device.device, { extract: data.tokenCount / (timings.extractMs / 1000), analyze: data.tokenCount / (timings.analyzeMs / 1000) });
    set({ run: { status: 'idle' } });
    showResult({ result, source: 'run', hash, label: corpus.label, savedAt: null });
    // Writing a run clones it on the main thread: it waits until the PCA matrix is on screen.
    void firstMatrix().then(async () => {
      const r = await saveRun(result, corpus.sentences, hash, corpus.label);
      set({ cache: { ...get().cache, message: r.saved ? null : (r.message ?? null) } });
      void refreshCacheUsage();
    });
  } catch (e) {
    if (e instanceof CallCancelledError || controller.signal.aborted) set({ run: { status: 'cancelled' } });
    else if (e instanceof WorkerCrashedError) set({ run: { status: 'error', kind: 'internal', message: `${e.message} Press Run to start again.` } });
    else if (e instanceof RpcError && e.kind && e.kind !== 'internal') set({ run: { status: 'error', kind: e.kind as 'corpus', message: e.message } });
    else set({ run: { status: 'error', kind: 'internal', message: `The run failed: ${(e as Error).message}` } });
  } finally {
    if (runAbort === controller) runAbort = null;
  }
}

export function cancelRun(): void {
  runAbort?.abort();
}

/** WebGPU ran slower than WASM: stop, switch, and run again. */
export async function switchToWasmAndRerun(): Promise<void> {
  cancelRun();
  set({ device: 'wasm', prepared: null });
  storeDevice('wasm');
  syncUrlSoon();
  // The cancelled run (its worker may be terminated to stop it) has to end before the next starts.
  await new Promise<void>((resolve) => {
    const unsubscribe = appStore.subscribe((s) => s.run.status !== 'running' && done());
    function done() {
      unsubscribe();
      resolve();
    }
    if (get().run.status !== 'running') done();
  });
  await runCorpus();
}

// ---------------------------------------------------------------- showing a result

/** Shows a result (from a run or the cache) and starts its projections; the previous one goes. */
export function showResult(next: Omit<ShownResult, 'id'>): void {
  const shown: ShownResult = { ...next, id: (get().shown?.id ?? 0) + 1 };
  const previous = get().projection;
  previous?.scheduler.dispose();
  const { data, manifest } = shown.result;
  const layouts = new LayoutStore(data.layers, data.heads);
  const scheduler = new ProjectionScheduler(shown.result, layouts, modelId(manifest.name, manifest.onnx.sha256), shown.hash);
  const link = get().link;
  const linkNotice =
    link?.corpus && !shown.hash.startsWith(link.corpus)
      ? `This link was made with another corpus (hash ${link.corpus}); its view settings were applied to this run. Paste the link’s corpus and Run again to see exactly what was shared.`
      : null;
  set({ shown, projection: { layouts, scheduler }, link: null, linkNotice });
  viewNewResult({ layers: data.layers, heads: data.heads, tokens: data.tokenCount }, link);
  const v = viewStore.getState();
  void scheduler.want(shownViews(v), v.focus);
  syncUrlSoon();
}

/** Longest a run's cache write waits for its PCA matrix. */
const SAVE_WAIT_MS = 15_000;

/** Resolves once the shown result has every head's PCA layout (or after SAVE_WAIT_MS). */
function firstMatrix(): Promise<void> {
  const projection = get().projection;
  if (!projection) return Promise.resolve();
  const { layouts } = projection;
  const done = () => [...layouts.completedAt.keys()].some((slot) => slot.includes('|pca|'));
  return new Promise((resolve) => {
    if (done()) return resolve();
    const timer = setTimeout(finish, SAVE_WAIT_MS);
    const unsubscribe = layouts.subscribe(() => done() && finish());
    function finish() {
      clearTimeout(timer);
      unsubscribe();
      resolve();
    }
  });
}

let following = false;

/** Projections and the address bar follow the view. */
function followView(): void {
  if (following) return;
  following = true;
  let last = '';
  viewStore.subscribe((v) => {
    const key = JSON.stringify([shownViews(v), v.focus]);
    const projection = get().projection;
    if (projection && key !== last) {
      last = key;
      void projection.scheduler.want(shownViews(v), v.focus);
    }
    syncUrlSoon();
  });
}

let urlTimer: ReturnType<typeof setTimeout> | undefined;

export function syncUrlSoon(): void {
  clearTimeout(urlTimer);
  urlTimer = setTimeout(() => {
    const { shown, link, device } = get();
    // A link's own settings stay in the address bar until they are applied.
    if (link) return;
    const v = viewStore.getState();
    const params = writeViewState(new URLSearchParams(window.location.search), { ...linkState(v), corpus: shown?.hash });
    if (device === 'auto') params.delete('device');
    else params.set('device', device);
    window.history.replaceState(null, '', `${window.location.pathname}?${params}`);
  }, URL_DEBOUNCE_MS);
}

/** The view as a shared link writes it (the camera is added when a link is made). */
export function linkState(v: ViewState) {
  return {
    head: v.focus ?? undefined,
    mode: v.mode,
    method: v.method,
    dims: v.dims,
    colour: v.colourMode,
    palette: v.palette,
    overlay: v.overlay === 'none' ? undefined : v.overlay,
    compare: v.compare,
    point: v.selected ?? undefined,
  };
}

// ---------------------------------------------------------------- cache

export async function refreshCacheUsage(): Promise<void> {
  const usage = await cacheUsage();
  set({ cache: { ...get().cache, ...usage } });
}

export async function clearAllCaches(): Promise<void> {
  try {
    await clearCache();
    set({ cache: { runs: 0, bytes: 0, message: 'Cache cleared: the next reload runs the model again.' } });
  } catch (e) {
    set({ cache: { ...get().cache, message: `The cache could not be cleared (${(e as Error).message}).` } });
  }
}
