// Choosing the model: the converted models this site serves (/models), models stored in this
// browser, a Hugging Face id looked up (size and memory stated before anything large is
// fetched) then downloaded, converted and stored by the model worker, or a local folder.
// Opening a model shows its cached run of the current corpus, or runs the corpus on it.
import { createStore } from 'zustand/vanilla';
import { useStore } from 'zustand';
import type { InstallProgress } from '@/lib/run/install';
import { fetchManifest } from '@/lib/model/catalog';
import { DEFAULT_HUB_ENDPOINT, type HubPlan, isRepoId, normalizeRepoId, planHubModel } from '@/lib/model/hub';
import type { ModelManifest } from '@/lib/model/manifest';
import type { StoredEntry } from '@/lib/model/store';
import type { WeightFormat } from '@/lib/model/weights';
import { deleteModel, listModels } from '../../lib/browser/modelStore';
import { modelId } from '@/lib/run/cacheKey';
import { CallCancelledError, RpcError, WorkerCrashedError } from '@/lib/worker/rpc';
import { findRun, loadRun } from '../../lib/browser/runCache';
import { appStore } from '../state/appStore';
import { scheduleCount, setDraft } from './corpus';
import { ensureImages } from './images';
import { showResult, syncUrlSoon } from './result';
import { runCorpus, scoreShown } from './runs';
import { MODELS_URL, modelClient } from './workers';

export interface HubForm {
  id: string;
  revision: string;
  endpoint: string;
  /** Kept in this page's memory only: never stored, sent only to `endpoint`. */
  token: string;
}

export type PickerTask =
  | { status: 'idle' }
  | { status: 'looking' }
  | { status: 'planned'; plan: HubPlan; format: WeightFormat | null }
  | { status: 'installing'; what: string; progress: InstallProgress | null }
  | { status: 'error'; message: string };

export interface PickerState {
  form: HubForm;
  task: PickerTask;
  stored: StoredEntry[];
  /** Models converted by the setup step, served under /models. */
  builtIn: string[];
  defaultModel: string | null;
  /** The "Open another model" panel is unfolded. */
  open: boolean;
}

export const pickerStore = createStore<PickerState>(() => ({
  form: { id: '', revision: 'main', endpoint: DEFAULT_HUB_ENDPOINT, token: '' },
  task: { status: 'idle' },
  stored: [],
  builtIn: [],
  defaultModel: null,
  open: false,
}));
export const usePicker = <T>(select: (s: PickerState) => T): T => useStore(pickerStore, select);

const set = pickerStore.setState;
const get = pickerStore.getState;

export function setForm(patch: Partial<HubForm>): void {
  const task = get().task;
  // A changed id or revision is a new look-up; the old plan no longer applies.
  const stale = task.status === 'planned' || task.status === 'error';
  set({
    form: { ...get().form, ...patch },
    ...(stale && (patch.id !== undefined || patch.revision !== undefined || patch.endpoint !== undefined) ? { task: { status: 'idle' } } : {}),
  });
}

export function setPickerOpen(open: boolean): void {
  if (open !== get().open) set({ open });
}

export async function refreshStored(): Promise<void> {
  set({ stored: await listModels() });
}

let lookupAbort: AbortController | null = null;

export async function lookUp(): Promise<void> {
  const { id, revision, endpoint, token } = get().form;
  const repo = normalizeRepoId(id);
  if (!repo)
    return set({ task: { status: 'error', message: 'Type a Hugging Face model id, e.g. "gpt2", "bert-base-uncased" or "HuggingFaceTB/SmolLM2-135M".' } });
  if (!isRepoId(repo))
    return set({
      task: { status: 'error', message: `"${id}" is not a hub id: write owner/name, e.g. "HuggingFaceTB/SmolLM2-135M", or a bare name such as "gpt2".` },
    });
  lookupAbort?.abort();
  const controller = new AbortController();
  lookupAbort = controller;
  set({ task: { status: 'looking' } });
  try {
    const plan = await planHubModel(
      { endpoint: endpoint.trim() || DEFAULT_HUB_ENDPOINT, repo, revision: revision.trim() || 'main', token: token.trim() || undefined },
      { signal: controller.signal },
    );
    if (!controller.signal.aborted) set({ task: { status: 'planned', plan, format: plan.format } });
  } catch (e) {
    if (!controller.signal.aborted) set({ task: { status: 'error', message: (e as Error).message } });
  }
}

let installAbort: AbortController | null = null;

function installError(e: unknown): string {
  if (e instanceof WorkerCrashedError)
    return `The model worker stopped while converting (${e.message}); the tab probably ran out of memory. Choose a smaller model or close other tabs.`;
  return (e as Error).message;
}

async function install(what: string, args: Parameters<typeof modelClient.call<'install'>>[1]): Promise<void> {
  installAbort?.abort();
  const controller = new AbortController();
  installAbort = controller;
  set({ task: { status: 'installing', what, progress: null } });
  try {
    const entry = await modelClient.call('install', args, {
      signal: controller.signal,
      graceMs: 2_000,
      onProgress: (progress) => !controller.signal.aborted && set({ task: { status: 'installing', what, progress } }),
    });
    set({ task: { status: 'idle' } });
    await refreshStored();
    await openModel(entry.manifest);
  } catch (e) {
    if (e instanceof CallCancelledError || controller.signal.aborted) set({ task: { status: 'error', message: `Stopped: ${what} was not stored.` } });
    else
      set({
        task: {
          status: 'error',
          message: e instanceof RpcError || e instanceof WorkerCrashedError ? installError(e) : `Opening ${what} failed: ${(e as Error).message}`,
        },
      });
  } finally {
    if (installAbort === controller) installAbort = null;
  }
}

export function installPlanned(): Promise<void> {
  const task = get().task;
  if (task.status !== 'planned' || task.plan.refusal || !task.format) return Promise.resolve();
  const token = get().form.token.trim() || undefined;
  return install(task.plan.repo, { kind: 'hub', plan: task.plan, token, format: task.format });
}

/** The weight precision the looked-up model will be converted to. */
export function choosePrecision(format: WeightFormat): void {
  const task = get().task;
  if (task.status === 'planned' && task.plan.formats.find((f) => f.format === format)?.fits) set({ task: { ...task, format } });
}

export function installFolder(files: File[]): Promise<void> {
  if (files.length === 0) return Promise.resolve();
  const folder = (files[0].webkitRelativePath || files[0].name).split('/')[0];
  return install(`the folder "${folder}"`, { kind: 'folder', files });
}

export function cancelInstall(): void {
  installAbort?.abort();
  lookupAbort?.abort();
}

/** Switches the page to a model: its cached run of the current corpus, or a run of the corpus on it. */
export async function openModel(manifest: ModelManifest): Promise<void> {
  const app = appStore.getState();
  if (app.run.status === 'running') return;
  const wasVision = !!app.manifest?.image;
  appStore.setState({ manifest, prepared: null, preparing: null, run: { status: 'idle' }, loadError: null });
  // Images for a vision model, the text draft back for a text one.
  if (manifest.image) await ensureImages();
  else if (wasVision) setDraft({});
  scheduleCount();
  syncModelParam(manifest);
  const hash = appStore.getState().corpus?.hash;
  const cached = hash ? await findRun(modelId(manifest.name, manifest.onnx.sha256), hash) : null;
  const record = cached && (await loadRun(cached));
  if (cached && record) {
    showResult({ result: record.result, source: 'cache', hash: cached.corpusHash, label: cached.label, corpus: record.sentences, savedAt: cached.savedAt });
    void scoreShown();
    return;
  }
  await runCorpus();
}

export async function openBuiltIn(name: string): Promise<void> {
  try {
    await openModel(await fetchManifest(MODELS_URL, name));
  } catch (e) {
    set({ task: { status: 'error', message: (e as Error).message } });
  }
}

export async function removeStored(key: string): Promise<void> {
  await deleteModel(key).catch(() => {});
  await refreshStored();
  const current = appStore.getState().manifest;
  const fallback = get().defaultModel;
  if (current?.storeKey === key && fallback) await openBuiltIn(fallback);
}

/** ?model= names the model on screen (absent for the site's default). */
function syncModelParam(manifest: ModelManifest): void {
  const params = new URLSearchParams(window.location.search);
  if (manifest.name === get().defaultModel && !manifest.storeKey) params.delete('model');
  else params.set('model', manifest.name);
  window.history.replaceState(null, '', `${window.location.pathname}?${params}`);
  syncUrlSoon();
}

/**
 * The model a ?model= names, when the page opens: a converted model of this site, the newest
 * stored copy of that repo or folder, or else a hub id to look up (the form is filled in).
 */
export async function resolveModelParam(requested: string, builtIn: string[]): Promise<ModelManifest | null> {
  if (builtIn.includes(requested)) return fetchManifest(MODELS_URL, requested);
  const stored = get().stored.find((e) => e.manifest.name === requested);
  if (stored) return stored.manifest;
  const repo = normalizeRepoId(requested);
  if (isRepoId(repo)) {
    setForm({ id: repo });
    set({
      open: true,
      task: { status: 'error', message: `"${repo}" is not stored in this browser yet: press Look up to see its size, then Download to open it.` },
    });
  }
  return null;
}
