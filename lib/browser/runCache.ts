// The runs this browser has made or opened, kept in its run store (OPFS, lib/browser/opfs.ts):
// a run is written there as it is made, so caching it is keeping it. Listed from the runs'
// records; the newest run of a model and corpus is the one a reload or a shared link shows;
// older runs of the same corpus, unfinished runs and the oldest past the cap are removed.
import { runKey, runModelId } from '../run/cacheKey';
import { storedRunResult } from '../run/stored';
import type { RunResult, StoredRunExtra } from '../run/types';
import { RunReader, dropRun, listRuns as listStoredRuns, type StoredRun } from '../store/runStore';
import { idbClear } from './idb';
import { OpfsStore, opfsAvailable } from './opfs';

/** Runs kept in all: several default-corpus runs (≈110 MB each); the oldest go first. */
export const MAX_RUN_CACHE_BYTES = 2 * 1024 ** 3;

export interface CachedRunInfo {
  /** The run's folder in the store. */
  id: string;
  /** Model and corpus, as runKey writes them: a reload looks runs up by it. */
  key: string;
  model: string;
  corpusHash: string;
  label: string;
  tokens: number;
  sentences: number;
  bytes: number;
  savedAt: number;
}

let store: OpfsStore | null = null;
export const runStore = (): OpfsStore => (store ??= new OpfsStore());

const infoOf = (r: StoredRun<StoredRunExtra>): CachedRunInfo => {
  const model = runModelId(r.extra.manifest, r.shape.rotary);
  return {
    id: r.id,
    key: runKey(model, r.extra.corpusHash),
    model,
    corpusHash: r.extra.corpusHash,
    label: r.extra.label,
    tokens: r.tokenCount,
    sentences: r.extra.corpus.length,
    bytes: r.bytes,
    savedAt: Date.parse(r.createdAt),
  };
};

/** Finished runs, newest first (a store this browser cannot open lists none). */
export async function listRuns(): Promise<CachedRunInfo[]> {
  if (!opfsAvailable()) return [];
  try {
    return (await listStoredRuns<StoredRunExtra>(runStore())).runs.filter((r) => r.extra?.manifest).map(infoOf);
  } catch {
    return [];
  }
}

/** Whether an index entry is a run of this model in the current format (older formats are never served). */
export const isRunOf = (r: CachedRunInfo, model: string) => r.model === model && r.key === runKey(model, r.corpusHash);

/** The newest run of a model, for a corpus whose hash starts with `corpusPrefix` (any corpus if omitted). */
export async function findRun(model: string, corpusPrefix?: string): Promise<CachedRunInfo | null> {
  return (await listRuns()).find((r) => isRunOf(r, model) && (!corpusPrefix || r.corpusHash.startsWith(corpusPrefix))) ?? null;
}

/** A run and the corpus it was run on (one sentence per entry, as given). */
export interface CachedRun {
  result: RunResult;
  sentences: string[];
}

export async function loadRun(info: CachedRunInfo): Promise<CachedRun | null> {
  try {
    const root = runStore();
    const reader = await RunReader.open<StoredRunExtra>(root, info.id);
    return { result: await storedRunResult(root, reader), sentences: reader.record.extra.corpus };
  } catch {
    return null;
  }
}

/**
 * After a run: older runs of the same model and corpus go, cut-off runs go, and the oldest
 * others past MAX_RUN_CACHE_BYTES go; `keep` (the runs on screen) never do.
 */
export async function tidyRuns(keep: string[]): Promise<void> {
  if (!opfsAvailable()) return;
  const root = runStore();
  const { runs, unfinished } = await listStoredRuns<StoredRunExtra>(root);
  const doomed = new Set(unfinished.filter((id) => !keep.includes(id)));
  const seen = new Set<string>();
  let total = 0;
  for (const r of runs) {
    if (!r.extra?.manifest) {
      if (!keep.includes(r.id)) doomed.add(r.id);
      continue;
    }
    const key = infoOf(r).key;
    if (keep.includes(r.id)) {
      seen.add(key);
      total += r.bytes;
      continue;
    }
    if (seen.has(key) || total + r.bytes > MAX_RUN_CACHE_BYTES) doomed.add(r.id);
    else {
      seen.add(key);
      total += r.bytes;
    }
  }
  for (const id of doomed) await root.remove(id).catch(() => {});
}

/**
 * Removes every stored run and the layout cache; `keep` (the run on screen, whose views still
 * read its files) is only marked to go: it is no longer listed, and goes once off screen.
 */
export async function clearCache(keep: string[] = []): Promise<void> {
  const root = runStore();
  if (opfsAvailable()) {
    for (const id of await root.folders()) {
      if (keep.includes(id)) await dropRun(root, id).catch(() => {});
      else await root.remove(id).catch(() => {});
    }
  }
  await idbClear();
}

export async function cacheUsage(): Promise<{ runs: number; bytes: number; index: CachedRunInfo[] }> {
  const runs = await listRuns();
  return { runs: runs.length, bytes: runs.reduce((n, r) => n + r.bytes, 0), index: runs };
}
