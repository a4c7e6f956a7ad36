'use client';
// The page's working area: the model and corpus a run will use, the Run/Cancel controls
// with live progress, and the run's summary and per-head figures.
import type { PreTrainedTokenizer } from '@huggingface/transformers';
import { useEffect, useRef, useState } from 'react';
import { fetchManifest, fetchModelsIndex } from '@/lib/model/catalog';
import type { ModelManifest } from '@/lib/model/manifest';
import { loadTokenizer } from '@/lib/model/tokenizer';
import type { DevicePreference } from '@/lib/protocol/model';
import { corpusHash } from '@/lib/projection/cacheKey';
import { configureOrtWasm } from '@/lib/runtime/ortAssets';
import { readViewState, sameCorpus } from '@/lib/views/urlState';
import { CorpusInput, type CorpusSelection } from './CorpusInput';
import { HeadTable } from './HeadTable';
import { ModelCard } from './ModelCard';
import { ViewsPanel } from './views/ViewsPanel';
import { RunProgress } from './RunProgress';
import { RunSummary } from './RunSummary';
import { useModelRun } from './useModelRun';

const MODELS_URL = '/models';
const DEFAULT_CORPUS_URL = '/corpus/default.txt';
const DEVICE_LABELS: Record<DevicePreference, string> = { auto: 'Auto (WebGPU if available)', webgpu: 'WebGPU', wasm: 'WASM (CPU)' };

export function Workbench() {
  const [manifest, setManifest] = useState<ModelManifest | null>(null);
  const [tokenizer, setTokenizer] = useState<PreTrainedTokenizer | null>(null);
  const [defaultText, setDefaultText] = useState<string | null>(null);
  const [corpus, setCorpus] = useState<CorpusSelection | null>(null);
  const [device, setDevice] = useState<DevicePreference>('auto');
  const [loadError, setLoadError] = useState<string | null>(null);
  const { state, run, cancel } = useModelRun();

  useEffect(() => {
    let cancelled = false;
    const params = new URLSearchParams(window.location.search);
    const requestedDevice = params.get('device');
    if (requestedDevice === 'wasm' || requestedDevice === 'webgpu') setDevice(requestedDevice);
    (async () => {
      const index = await fetchModelsIndex(MODELS_URL);
      const requested = params.get('model');
      if (requested !== null && !index.models.includes(requested)) {
        throw new Error(
          `Model "${requested}" has not been converted here (available: ${index.models.join(', ')}). ` +
            `Convert it with \`npm run setup:model -- --hub ${requested} --name ${requested}\` or --from-dir.`,
        );
      }
      const m = await fetchManifest(MODELS_URL, requested ?? index.default);
      if (cancelled) return;
      setManifest(m);
      const res = await fetch(DEFAULT_CORPUS_URL);
      if (!res.ok) throw new Error(`the default corpus (${DEFAULT_CORPUS_URL}) could not be loaded: HTTP ${res.status}`);
      const text = await res.text();
      if (cancelled) return;
      setDefaultText(text);
      await configureOrtWasm();
      const tok = await loadTokenizer({ kind: 'local', modelsPath: `${MODELS_URL}/`, name: m.name });
      // A tokenizer is callable, so pass it through an updater or React would call it.
      if (!cancelled) setTokenizer(() => tok);
    })().catch((e: Error) => !cancelled && setLoadError(e.message));
    return () => {
      cancelled = true;
    };
  }, []);

  const running = state.status === 'running';
  const start = () => manifest && corpus && run({ modelsUrl: MODELS_URL, model: manifest.name, device, sentences: corpus.sentences });

  // A shared link made with the corpus on offer (usually the default one) runs by itself.
  const autoRan = useRef(false);
  useEffect(() => {
    const linkCorpus = readViewState(new URLSearchParams(window.location.search)).corpus;
    if (!linkCorpus || autoRan.current || !manifest || !corpus || !tokenizer || state.status !== 'idle') return;
    let cancelled = false;
    void corpusHash(corpus.sentences).then((hash) => {
      if (cancelled || autoRan.current || !sameCorpus(linkCorpus, hash)) return;
      autoRan.current = true;
      start();
    });
    return () => {
      cancelled = true;
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [manifest, corpus, tokenizer, state.status]);

  return (
    <>
      {loadError && (
        <p className="error" role="alert">
          {loadError}
        </p>
      )}
      <section className="cards">
        <ModelCard manifest={manifest} pending={!loadError} />
        <CorpusInput defaultText={defaultText} tokenizer={tokenizer} maxTokens={manifest?.maxTokens ?? null} onChange={setCorpus} />
      </section>
      <div className="actions">
        <button type="button" className="primary" disabled={!manifest || !corpus || running} onClick={start}>
          Run
        </button>
        <button type="button" className="secondary" disabled={!running} onClick={cancel}>
          Cancel
        </button>
        <label>
          Device{' '}
          <select value={device} onChange={(e) => setDevice(e.target.value as DevicePreference)} disabled={running}>
            {(Object.keys(DEVICE_LABELS) as DevicePreference[]).map((d) => (
              <option key={d} value={d}>
                {DEVICE_LABELS[d]}
              </option>
            ))}
          </select>
        </label>
      </div>
      <div aria-live="polite">
        {state.status === 'running' && <RunProgress state={state} />}
        {state.status === 'cancelled' && (
          <p className="status" role="status">
            Run cancelled. Nothing was kept; press Run to start again.
          </p>
        )}
        {state.status === 'error' && (
          <p className="error" role="alert" data-testid="run-error">
            {state.message}
          </p>
        )}
      </div>
      {state.status === 'done' && (
        <>
          <RunSummary result={state.result} />
          <ViewsPanel result={state.result} />
          <HeadTable analysis={state.result.analysis} layers={state.result.data.layers} heads={state.result.data.heads} />
        </>
      )}
    </>
  );
}
