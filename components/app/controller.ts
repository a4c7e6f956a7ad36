// Opening the app: the model manifest (the site's default, or the one ?model= names), the default corpus, then either the last cached run of
// the model (or a shared link's, when this browser has run that corpus), a shared link's default
// corpus run by itself, or the model prepared and measured for a first run.
import { parseCorpus } from '@/lib/corpus/parse';
import { fetchManifest, fetchModelsIndex } from '@/lib/model/catalog';
import { corpusHash, modelId } from '@/lib/run/cacheKey';
import { type DevicePreference } from '@/lib/run/types';
import { DEVICE_PREFERENCES } from '@/lib/engine/runtime';
import { readViewState, sameCorpus } from '@/lib/views/urlState';
import { findRun, loadRun } from '../../lib/browser/runCache';
import { appStore } from '../state/appStore';
import { storedDevice, storedVectorDtype } from '../state/prefs';
import { setPanels } from '../state/viewStore';
import { setDraft } from './corpus';
import { followView, showResult } from './result';
import { prepareModel, refreshCacheUsage, runCorpus, scoreShown } from './runs';
import { MODELS_URL } from './workers';
import { pickerStore, refreshStored, resolveModelParam } from './models';
import { openBundleUrl } from './bundles';

const DEFAULT_CORPUS_URL = '/corpus/default.txt';

const set = appStore.setState;
const get = appStore.getState;

let started = false;

/** Below this window width the details panel starts closed, so the canvas keeps most of the window. */
const NARROW_WINDOW_PX = 1180;

export async function startApp(): Promise<void> {
  if (started) return;
  started = true;
  if (window.innerWidth < NARROW_WINDOW_PX) setPanels({ right: false });
  const params = new URLSearchParams(window.location.search);
  const link = readViewState(params);
  const urlDevice = params.get('device') as DevicePreference | null;
  const device = (urlDevice && DEVICE_PREFERENCES.includes(urlDevice) ? urlDevice : null) ?? storedDevice() ?? 'auto';
  set({ device, vectorDtype: storedVectorDtype(), link: Object.keys(link).length ? link : null });
  followView();
  try {
    const index = await fetchModelsIndex(MODELS_URL);
    pickerStore.setState({ builtIn: index.models, defaultModel: index.default });
    await refreshStored();
    const requested = params.get('model');
    // A ?model= this browser does not have yet opens the default model, with the hub form filled in.
    const manifest = (requested !== null ? await resolveModelParam(requested, index.models) : null) ?? (await fetchManifest(MODELS_URL, index.default));
    set({ manifest });
    const res = await fetch(DEFAULT_CORPUS_URL);
    if (!res.ok) throw new Error(`the default corpus (${DEFAULT_CORPUS_URL}) could not be loaded: HTTP ${res.status}`);
    const defaultText = await res.text();
    const defaultHash = await corpusHash(parseCorpus(defaultText).sentences);
    set({ defaultText, defaultHash });
    setDraft({ source: 'default' });
    const untouched = get().draft;

    performance.mark('qkviz:opened');
    const bundleUrl = params.get('bundle');
    if (bundleUrl) {
      // A bundle's run is shown instead of a first run (the model is still prepared for Run).
      await openBundleUrl(bundleUrl);
      void prepareModel();
      return;
    }
    const cached = await findRun(modelId(manifest.name, manifest.onnx.sha256), link.corpus);
    const record = cached && (await loadRun(cached));
    performance.mark('qkviz:cache-read');
    void refreshCacheUsage();
    // Someone who chose a corpus or pressed Run while the cache was read keeps what they asked for.
    if (get().run.status !== 'idle' || get().shown !== null) return;
    if (get().draft !== untouched) {
      void prepareModel();
      return;
    }
    if (cached && record) {
      // The corpus card shows the corpus the matrix came from.
      if (cached.corpusHash !== defaultHash)
        setDraft({ source: 'upload', upload: { name: cached.label, text: '', sentences: record.sentences }, uploadError: null });
      showResult({ result: record.result, source: 'cache', hash: cached.corpusHash, label: cached.label, corpus: record.sentences, savedAt: cached.savedAt });
      void scoreShown();
      return;
    }
    if (link.corpus && sameCorpus(link.corpus, defaultHash)) {
      // A link made with the default corpus runs by itself.
      void runCorpus();
      return;
    }
    if (link.corpus) {
      set({
        linkNotice: `This address names a corpus (hash ${link.corpus}) that this browser has not run. Paste that corpus and press Run to see the view it holds.`,
      });
    }
    void prepareModel();
  } catch (e) {
    set({ loadError: (e as Error).message });
  }
}
