// The browser's model store (lib/model/store says what it keeps and under which key): the
// list and each model's config and tokenizer files in IndexedDB ('qkviz-models'), its graph
// files in the Origin Private File System ("models/", a folder per model). Used by the page
// (list, delete) and the model and corpus workers.
import { ModelFilesError } from '../model/catalog';
import { CONVERTER_VERSION } from '../model/manifest';
import { type StoredEntry, type StoredFiles, modelFolderName } from '../model/store';
import type { ModelStore } from '../run/modelStore';
import { database } from './database';
import { OpfsStore } from './opfs';

const STORES = { entries: 'entries', files: 'files', graphs: 'graphs' } as const;
const db = database('qkviz-models', 1, Object.values(STORES));
let graphs: OpfsStore | undefined;
const graphRoot = async () => (graphs ??= new OpfsStore('models'));

export async function saveModel(entry: StoredEntry, files: StoredFiles): Promise<void> {
  try {
    await db.write([STORES.files, STORES.entries], (tx) => {
      tx.objectStore(STORES.files).put(files, entry.key);
      tx.objectStore(STORES.entries).put(entry, entry.key);
    });
  } catch (e) {
    const name = (e as DOMException)?.name;
    throw new ModelFilesError(
      name === 'QuotaExceededError'
        ? `The browser has no room to store ${entry.manifest.name}: delete stored models or cached runs, or free disk space.`
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

export async function deleteModel(key: string): Promise<void> {
  // Graphs of converter versions before the file store lived in IndexedDB: dropped with the entry.
  await db.write(Object.values(STORES), (tx) => Object.values(STORES).forEach((s) => tx.objectStore(s).delete(key)));
  await (await graphRoot()).remove(modelFolderName(key)).catch(() => {});
}

export const browserModelStore: ModelStore = {
  graphRoot,
  save: saveModel,
  list: listModels,
  entry: storedEntry,
  files: storedFiles,
  remove: deleteModel,
};
