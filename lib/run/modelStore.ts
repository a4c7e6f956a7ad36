// The model store's interface, as the model worker's service and installer use it (the
// browser's is lib/browser/modelStore; Node has none): records in a database, graph files in
// a file store. Keys and folder names are lib/model/store's.
import type { StoredEntry, StoredFiles } from '../model/store';
import type { StoreRoot } from '../store/files';

export interface ModelStore {
  /** Where each model's graph files are kept (a folder per model, named by modelFolderName), and downloads while installing. */
  graphRoot(): Promise<StoreRoot>;
  /** Records a model whose graph files are written (the record is what makes it listed). */
  save(entry: StoredEntry, files: StoredFiles): Promise<void>;
  list(): Promise<StoredEntry[]>;
  entry(key: string): Promise<StoredEntry>;
  files(key: string): Promise<StoredFiles>;
  /** Forgets a model and deletes its graph files. */
  remove(key: string): Promise<void>;
}

/** The store where none is handed in (Node): every stored model is missing. */
export const NO_MODEL_STORE: ModelStore = {
  graphRoot: () => Promise.reject(new Error('no model store here')),
  save: () => Promise.reject(new Error('no model store here')),
  list: async () => [],
  entry: (key) => Promise.reject(new Error(`no model store here for ${key}`)),
  files: (key) => Promise.reject(new Error(`no model store here for ${key}`)),
  remove: async () => {},
};
