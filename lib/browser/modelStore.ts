// The browser's model store ('qkviz-models' in IndexedDB; lib/model/store says what it keeps
// and under which key), used by the page (list, delete) and the model and corpus workers.
import { ModelFilesError } from '../model/catalog';
import { CONVERTER_VERSION } from '../model/manifest';
import type { ModelStore, StoredEntry, StoredFiles } from '../model/store';
import { database } from './database';

const STORES = { entries: 'entries', files: 'files', graphs: 'graphs' } as const;
const db = database('qkviz-models', 1, Object.values(STORES));

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

const missing = (key: string) =>
  new ModelFilesError(`This model is no longer stored in this browser (${key.split('|')[2] ?? key}): open it again by id or folder.`);

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

export const browserModelStore: ModelStore = {
  save: saveModel,
  list: listModels,
  entry: storedEntry,
  files: storedFiles,
  graph: storedGraph,
  remove: deleteModel,
};
