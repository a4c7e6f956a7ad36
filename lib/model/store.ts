// Models opened by hub id or from a local folder are kept in a store (the browser's IndexedDB,
// components/cache/modelStore.ts): a small entry per model for the list, its config and
// tokenizer files, and its converted graph, under one key — where it came from (endpoint +
// repo, or folder), the commit (or the files' sizes and dates) and the converter version, so
// a new commit or converter is a new entry and nothing stale is run. This module holds the
// keys and the store's interface (lib runs without the DOM; the store is handed in).
import { CONVERTER_VERSION, type ModelManifest } from './manifest';

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

export interface ModelStore {
  save(entry: StoredEntry, files: StoredFiles, graph: Uint8Array): Promise<void>;
  list(): Promise<StoredEntry[]>;
  entry(key: string): Promise<StoredEntry>;
  files(key: string): Promise<StoredFiles>;
  graph(key: string): Promise<Uint8Array>;
  remove(key: string): Promise<void>;
}

/** The store where none is handed in (Node): every stored model is missing. */
export const NO_MODEL_STORE: ModelStore = {
  save: () => Promise.reject(new Error('no model store here')),
  list: async () => [],
  entry: (key) => Promise.reject(new Error(`no model store here for ${key}`)),
  files: (key) => Promise.reject(new Error(`no model store here for ${key}`)),
  graph: (key) => Promise.reject(new Error(`no model store here for ${key}`)),
  remove: async () => {},
};
