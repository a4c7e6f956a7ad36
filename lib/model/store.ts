// Models opened by hub id or from a local folder are kept in a store (lib/browser/modelStore):
// a small entry per model for the list, its config and tokenizer files (IndexedDB), and its
// converted graph — model.onnx and its weights' data files — in a folder of the Origin
// Private File System, under one key: where it came from (endpoint + repo, or folder), the
// commit (or the files' sizes and dates), the weight precision and the converter version, so
// a new commit, precision or converter is a new entry and nothing stale is run. This module
// holds the keys and the store's interface (lib runs without the DOM; the store is handed in).
import { CONVERTER_VERSION, type ModelManifest } from './manifest';
import type { WeightFormat } from './weights';

/** A model ref naming a stored model, as the workers receive it (`model` in ModelRef). */
const STORED_PREFIX = 'stored:';

export interface StoredEntry {
  key: string;
  manifest: ModelManifest;
  savedAt: number;
}

export interface StoredFiles {
  config: string;
  /** A text model's tokenizer.json (and tokenizer_config.json). */
  tokenizer?: string;
  tokenizerConfig?: string;
  /** A vision model's preprocessor_config.json. */
  preprocessor?: string;
}

const formatPart = (format: WeightFormat) => (format === 'float32' ? '' : `|${format}`);

export function hubStoreKey(endpoint: string, repo: string, commit: string, format: WeightFormat = 'float32'): string {
  return `hub|${endpoint.replace(/\/+$/, '')}|${repo}|${commit}${formatPart(format)}|v${CONVERTER_VERSION}`;
}

export function folderStoreKey(name: string, fingerprint: string, format: WeightFormat = 'float32'): string {
  return `folder|${name}|${fingerprint}${formatPart(format)}|v${CONVERTER_VERSION}`;
}

/** A stored model's folder name in the file store (keys hold characters a file name may not). */
export function modelFolderName(key: string): string {
  // FNV-1a, twice with different seeds: 64 bits, plenty for the few models a browser keeps.
  const hash = (seed: number) => {
    let h = seed >>> 0;
    for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193) >>> 0;
    return h.toString(16).padStart(8, '0');
  };
  return `m-${hash(0x811c9dc5)}${hash(0x1b873593)}`;
}

/** What the workers are asked to run: a stored model's key, or a converted folder's name under /models. */
export function modelRefOf(manifest: ModelManifest): string {
  return manifest.storeKey ? `${STORED_PREFIX}${manifest.storeKey}` : manifest.name;
}

export function storedKeyOf(ref: string): string | null {
  return ref.startsWith(STORED_PREFIX) ? ref.slice(STORED_PREFIX.length) : null;
}
