// The browser's store of models opened by hub id or from a local folder ('qkviz-models' in
// IndexedDB, usable from the model and corpus workers): a small entry per model for the list,
// its config and tokenizer files, and its converted graph, under one key — where it came from
// (endpoint + repo, or folder), the commit (or the files' sizes and dates) and the converter
// version, so a new commit or converter is a new entry and nothing stale is run.
import { database } from '../util/idb';
import { CONVERTER_VERSION, type ModelManifest } from './manifest';
import { ModelFilesError } from './catalog';

const STORES = { entries: 'entries', files: 'files', graphs: 'graphs' } as const;
const db = database('qkviz-models', 1, Object.values(STORES));

/** A model ref naming a stored model, as the workers receive it (`model` in ModelRef). */
const STORED_PREFIX = 'stored:';

export interface StoredEntry {
  key: string;
  manifest: ModelManifest;
  savedAt: number;
}

export interface StoredFiles {
  config: string;
  tokenizer: string;
  tokenizerConfig?: string;
}

export function hubStoreKey(endpoint: string, repo: string, commit: string): string {
  return `hub|${endpoint.replace(/\/+$/, '')}|${repo}|${commit}|v${CONVERTER_VERSION}`;
}

export function folderStoreKey(name: string, fingerprint: string): string {
  return `folder|${name}|${fingerprint}|v${CONVERTER_VERSION}`;
}

/** What the workers are asked to run: a stored model's key, or a converted folder's name under /models. */
export function modelRefOf(manifest: ModelManifest): string {
  return manifest.storeKey ? `${STORED_PREFIX}${manifest.storeKey}` : manifest.name;
}

export function storedKeyOf(ref: string): string | null {
  return ref.startsWith(STORED_PREFIX) ? ref.slice(STORED_PREFIX.length) : null;
}

export async function saveModel(entry: StoredEntry, files: StoredFiles, graph: Uint8Array): Promise<void> {
  try {
    await db.write(Object.values(STORES), (tx) => {
      tx.objectStore(STORES.graphs).put(graph, entry.key);
      tx.objectStore(STORES.files).put(files, entry.key);
      tx.objectStore(STORES.entries).put(entry, entry.key);
    });
  } catch (e) {
    const name = (e as DOMException)?.name;
    throw new ModelFilesError(
      name === 'QuotaExceededError'
        ? `The browser has no room to store ${entry.manifest.name} (${(graph.byteLength / 2 ** 20).toFixed(0)} MB): delete stored models or cached runs, or free disk space.`
        : `Could not store ${entry.manifest.name} in this browser: ${(e as Error)?.message ?? e}`,
    );
  }
}

/** Every stored model, newest first; none where IndexedDB is unavailable (private windows). */
export async function listModels(): Promise<StoredEntry[]> {
  try {
    return (await db.getAll<StoredEntry>(STORES.entries)).filter((e) => e.key.endsWith(`|v${CONVERTER_VERSION}`)).sort((a, b) => b.savedAt - a.savedAt);
  } catch {
    return [];
  }
}

const missing = (key: string) => new ModelFilesError(`This model is no longer stored in this browser (${key.split('|')[2] ?? key}): open it again by id or folder.`);

export async function storedEntry(key: string): Promise<StoredEntry> {
  const entry = await db.get<StoredEntry>(STORES.entries, key);
  if (!entry) throw missing(key);
  return entry;
}

export async function storedFiles(key: string): Promise<StoredFiles> {
  const files = await db.get<StoredFiles>(STORES.files, key);
  if (!files) throw missing(key);
  return files;
}

export async function storedGraph(key: string): Promise<Uint8Array> {
  const graph = await db.get<Uint8Array>(STORES.graphs, key);
  if (!graph) throw missing(key);
  return graph;
}

export async function deleteModel(key: string): Promise<void> {
  await db.write(Object.values(STORES), (tx) => Object.values(STORES).forEach((s) => tx.objectStore(s).delete(key)));
}
