// Preparing the model and measuring this device before a run, running and cancelling (the
// result on screen stays until a run succeeds), the figures scored after the matrix is on
// screen, the WebGPU-slower-than-WASM switch, and the runs this browser keeps (its run store).
import { StageClock, slowerThanWasm } from '@/lib/run/progress';
import { corpusHash } from '@/lib/run/cacheKey';
import type { DevicePreference, RunProgress } from '@/lib/run/types';
import type { RotaryVectors } from '@/lib/data/layout';
import { CallCancelledError, RpcError, WorkerCrashedError } from '@/lib/worker/rpc';
import { type CachedRunInfo, cacheUsage, clearCache, loadRun, tidyRuns } from '../../lib/browser/runCache';
import { withScores } from '@/lib/run/stored';
import { appStore } from '../state/appStore';
import { storeDevice, storeThroughput, storedThroughput } from '../state/prefs';
import { firstPcaViews, showResult, syncUrlSoon } from './result';
import { MODELS_URL, modelClient } from './workers';
import { modelRefOf } from '@/lib/model/store';
import { graphBytesOf } from '@/lib/model/manifest';
import { currentImages } from './images';

/** Sentences of the corpus the device is measured on before the first run (spread over it, so long and short ones count). */
const PREPARE_SAMPLE_SENTENCES = 80;

const set = appStore.setState;
const get = appStore.getState;

/** Runs smaller than this say little about throughput (fixed costs dominate): their rates are not kept. */
const MIN_RATE_TOKENS = 1000;

/** Stores a measured rate and lets estimates made from stored rates be redone. */
function remember(model: string, device: string, update: Parameters<typeof storeThroughput>[2]): void {
  storeThroughput(model, device, update);
  set({ ratesVersion: get().ratesVersion + 1 });
}

/** Every k-th sentence, `n` in all: a sample with the corpus's mix of lengths. */
const spread = (sentences: string[], n: number) =>
  sentences.length <= n ? sentences : Array.from({ length: n }, (_, i) => sentences[Math.floor((i * sentences.length) / n)]);

let preparing: Promise<void> | null = null;
let prepareAbort: AbortController | null = null;
/** Set while a run waits for the model being prepared: the run shows the preparation's progress. */
let runWaiting = false;

/** Rotated or unrotated vectors for a rotary model: the corpus runs again with them. */
export function setRotary(rotary: RotaryVectors): void {
  if (rotary === get().rotary) return;
  set({ rotary });
  if (get().run.status !== 'running' && get().shown) void runCorpus();
}

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
    set({ preparing: { stage: 'download', done: 0, total: graphBytesOf(manifest) } });
    try {
      const prepared = await modelClient.call(
        'prepare',
        {
          modelsUrl: MODELS_URL,
          model: modelRefOf(manifest),
          device,
          sample: spread(corpus?.sentences ?? [], PREPARE_SAMPLE_SENTENCES),
          measureWasm: device !== 'wasm' && !storedThroughput(manifest.name, 'wasm'),
        },
        // Never terminate the worker to stop measuring: it holds the model the run will use.
        {
          signal: controller.signal,
          graceMs: 600_000,
          onProgress: (p) => {
            const run = get().run;
            set(runWaiting && run.status === 'running' ? { preparing: p, run: { ...run, progress: p } } : { preparing: p });
          },
        },
      );
      remember(manifest.name, prepared.device.device, { calibrated: prepared.tokensPerSecond });
      if (prepared.wasmTokensPerSecond) remember(manifest.name, 'wasm', { calibrated: prepared.wasmTokensPerSecond });
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
  set({
    run: {
      status: 'running',
      progress: get().preparing ?? { stage: 'tokenize', done: 0, total: corpus.sentences.length },
      etaMs: null,
      rate: null,
      slower: null,
    },
  });
  runWaiting = true;
  // Cancel works while waiting too: it stops the preparation and ends the wait at once.
  const cancelled = new Promise<void>((resolve) => controller.signal.addEventListener('abort', () => resolve(), { once: true }));
  await Promise.race([preparing?.catch(() => {}), cancelled]);
  runWaiting = false;
  if (controller.signal.aborted) {
    prepareAbort?.abort();
    set({ run: { status: 'cancelled' }, preparing: null });
    return;
  }

  const prepared = get().prepared;
  const stored = (d: string) => storedThroughput(manifest.name, d);
  const clock = new StageClock((stage) => {
    const d = get().run.status === 'running' ? (get().run as { progress: RunProgress }).progress.device?.device : undefined;
    if (stage === 'extract') return (d ? (stored(d)?.extract ?? stored(d)?.calibrated) : undefined) ?? null;
    if (stage === 'analyze') {
      // Heads per second: head-pairs per second over the pairs of one head.
      const rate = d ? stored(d)?.analyzePairs : undefined;
      const count = get().count;
      const pairsPerHead = count.status === 'done' ? count.facts.headPairs / (manifest.layers * manifest.heads) : null;
      return rate && pairsPerHead ? rate / pairsPerHead : null;
    }
    return null;
  });
  const wasmRate = stored('wasm')?.extract ?? prepared?.wasmTokensPerSecond ?? stored('wasm')?.calibrated;
  try {
    const hash = corpus.hash ?? (await corpusHash(corpus.sentences));
    const id = `${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
    const result = await modelClient.call(
      'run',
      {
        modelsUrl: MODELS_URL,
        model: modelRefOf(manifest),
        device,
        sentences: corpus.sentences,
        ...(manifest.image ? { images: currentImages() } : {}),
        analysisThreads: analysisThreadsParam(),
        pca: firstPcaViews(),
        rotary: get().rotary,
        id,
        dtype: get().vectorDtype,
        label: corpus.label,
        corpusHash: hash,
      },
      {
        signal: controller.signal,
        onProgress: (progress) => {
          const now = get().run;
          if (now.status !== 'running' || controller.signal.aborted) return;
          const { etaMs, rate, reports } = clock.update(progress, performance.now());
          const extracting = progress.stage === 'extract';
          const slower =
            now.slower ??
            (extracting && progress.device?.device === 'webgpu' && slowerThanWasm(rate, wasmRate, reports) ? { webgpu: rate!, wasm: wasmRate! } : null);
          set({ run: { ...now, progress, etaMs, rate: extracting ? rate : now.rate, slower } });
        },
      },
    );
    const { data, timings } = result;
    if (data.tokenCount >= MIN_RATE_TOKENS) {
      const headPairs = data.sentences.reduce((n, s) => n + s.ids.length ** 2, 0) * data.layers * data.heads;
      remember(manifest.name, result.device.device, {
        extract: data.tokenCount / (timings.extractMs / 1000),
        analyzePairs: headPairs / (timings.analyzeMs / 1000),
      });
    }
    set({ run: { status: 'idle' } });
    showResult({ result, source: 'run', hash, label: corpus.label, corpus: corpus.sentences, savedAt: null });
    // The run is in the store already: older runs of this corpus (and past the cap) go.
    void tidyRuns([id]).then(refreshCacheUsage);
    void scoreShown();
  } catch (e) {
    if (e instanceof CallCancelledError || controller.signal.aborted) set({ run: { status: 'cancelled' } });
    else if (e instanceof WorkerCrashedError) set({ run: { status: 'error', kind: 'internal', message: `${e.message} Press Run to start again.` } });
    else if (e instanceof RpcError && e.kind && e.kind !== 'internal') set({ run: { status: 'error', kind: e.kind as 'corpus', message: e.message } });
    else set({ run: { status: 'error', kind: 'internal', message: `The run failed: ${(e as Error).message}` } });
  } finally {
    if (runAbort === controller) runAbort = null;
  }
}

/**
 * The shown run's figures, after its matrix: the model worker reads each head back from the
 * store and scores it under every mode (with its helpers); the table, overlays and
 * diagnostics fill in when they arrive.
 */
export async function scoreShown(): Promise<void> {
  const shown = get().shown;
  const vectors = shown?.result.vectors;
  if (!shown || shown.result.analysis.scored !== false || !vectors) return;
  const what = vectors.kind === 'store' ? { id: vectors.id } : { bundle: vectors.file };
  const total = shown.result.data.layers * shown.result.data.heads;
  set({ scoring: { id: shown.id, done: 0, total } });
  try {
    const scores = await modelClient.call(
      'score',
      { ...what, analysisThreads: analysisThreadsParam() },
      { onProgress: (p) => get().scoring?.id === shown.id && set({ scoring: { id: shown.id, ...p } }) },
    );
    const now = get().shown;
    if (now?.id !== shown.id) return;
    set({ shown: { ...now, result: { ...now.result, analysis: withScores(now.result.analysis, scores) } } });
  } catch (e) {
    if (get().shown?.id === shown.id) set({ scoringError: `The figures could not be computed: ${(e as Error).message}` });
  } finally {
    if (get().scoring?.id === shown.id) set({ scoring: null });
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

export async function refreshCacheUsage(): Promise<void> {
  const usage = await cacheUsage();
  set({ cache: { ...get().cache, ...usage } });
}

export async function clearAllCaches(): Promise<void> {
  try {
    const shown = get().shown?.result.vectors;
    await clearCache(shown?.kind === 'store' ? [shown.id] : []);
    set({ cache: { runs: 0, bytes: 0, index: [], message: 'Cache cleared: the next reload runs the model again.' } });
  } catch (e) {
    set({ cache: { ...get().cache, message: `The cache could not be cleared (${(e as Error).message}).` } });
  }
}

/** Shows a corpus run before from the cache, without running the model. */
export async function showCachedRun(info: CachedRunInfo): Promise<void> {
  const record = await loadRun(info);
  if (!record) {
    set({ cache: { ...get().cache, message: 'That run could not be read from the cache; press Run to compute it.' } });
    return;
  }
  showResult({ result: record.result, source: 'cache', hash: info.corpusHash, label: info.label, corpus: record.sentences, savedAt: info.savedAt });
  void scoreShown();
}

/** `?analysis-threads=N` caps the threads that score the heads (the benchmark's one-thread baseline). */
function analysisThreadsParam(): number | undefined {
  const n = Number(new URLSearchParams(window.location.search).get('analysis-threads'));
  return Number.isInteger(n) && n > 0 ? n : undefined;
}
