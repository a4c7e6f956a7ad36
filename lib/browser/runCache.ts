// Whole runs — tokens, raw queries and keys, attention, the normalization constants and
// figures — cached under model hash + corpus hash + format version, so a reload or a shared
// link for a corpus run before shows the full matrix without running the model again.
import { runModelId, runKey } from '../run/cacheKey';
import type { RunResult } from '../run/types';
import { STORES, idbClear, idbGet, idbGetAll, idbWrite } from './idb';

/** All cached runs together: several default-corpus runs (≈130 MB each); the oldest go first. */
export const MAX_RUN_CACHE_BYTES = 1024 ** 3;
/** A run above this is not cached: writing it clones it, which would double the tab's memory at its peak. */
export const MAX_CACHED_RUN_BYTES = 400 * 1024 ** 2;

export interface CachedRunInfo {
  key: string;
  model: string;
  corpusHash: string;
  label: string;
  tokens: number;
  sentences: number;
  bytes: number;
  savedAt: number;
}

const runModel = (result: RunResult) => runModelId(result.manifest, result.data.rotary);

export function runBytes(result: RunResult): number {
  const d = result.data;
  return (
    d.queries.byteLength + d.keys.byteLength + (d.rotated ? d.rotated.queries.byteLength + d.rotated.keys.byteLength : 0) + d.attentionSample.values.byteLength
  );
}

export async function listRuns(): Promise<CachedRunInfo[]> {
  try {
    return (await idbGetAll<CachedRunInfo>(STORES.runIndex)).sort((a, b) => b.savedAt - a.savedAt);
  } catch {
    return [];
  }
}

/** Whether an index entry is a run of this model in the current format (older formats are never served). */
export const isRunOf = (r: CachedRunInfo, model: string) => r.model === model && r.key === runKey(model, r.corpusHash);

/** The newest cached run of a model, for a corpus whose hash starts with `corpusPrefix` (any corpus if omitted). */
export async function findRun(model: string, corpusPrefix?: string): Promise<CachedRunInfo | null> {
  return (await listRuns()).find((r) => isRunOf(r, model) && (!corpusPrefix || r.corpusHash.startsWith(corpusPrefix))) ?? null;
}

/** A run and the corpus it was run on (one sentence per line, as given). */
export interface CachedRun {
  result: RunResult;
  sentences: string[];
}

export async function loadRun(info: CachedRunInfo): Promise<CachedRun | null> {
  try {
    const record = await idbGet<CachedRun>(STORES.runs, info.key);
    return record?.result?.data?.queries instanceof Float32Array && Array.isArray(record.sentences) ? record : null;
  } catch {
    return null;
  }
}

/** Saves a run, evicting the oldest past the cap; says why when it is not saved. */
export async function saveRun(result: RunResult, sentences: string[], corpusHash: string, label: string): Promise<{ saved: boolean; message?: string }> {
  const bytes = runBytes(result);
  if (bytes > MAX_CACHED_RUN_BYTES) {
    return { saved: false, message: `This run (${Math.round(bytes / 1024 ** 2)} MB) is too large to cache; reopening it will run the model again.` };
  }
  const model = runModel(result);
  const info: CachedRunInfo = {
    key: runKey(model, corpusHash),
    model,
    corpusHash,
    label,
    tokens: result.data.tokenCount,
    sentences: result.data.sentences.length,
    bytes,
    savedAt: Date.now(),
  };
  const others = (await listRuns()).filter((r) => r.key !== info.key);
  const evict: CachedRunInfo[] = [];
  let total = bytes + others.reduce((n, r) => n + r.bytes, 0);
  for (const r of [...others].reverse()) {
    if (total <= MAX_RUN_CACHE_BYTES) break;
    evict.push(r);
    total -= r.bytes;
  }
  try {
    await idbWrite([STORES.runs, STORES.runIndex], (tx) => {
      for (const r of evict) {
        tx.objectStore(STORES.runs).delete(r.key);
        tx.objectStore(STORES.runIndex).delete(r.key);
      }
      tx.objectStore(STORES.runs).put({ result, sentences } satisfies CachedRun, info.key);
      tx.objectStore(STORES.runIndex).put(info, info.key);
    });
    return { saved: true };
  } catch (e) {
    return { saved: false, message: `This run could not be cached (${(e as Error).message || 'storage refused it'}).` };
  }
}

export async function clearCache(): Promise<void> {
  await idbClear();
}

export async function cacheUsage(): Promise<{ runs: number; bytes: number; index: CachedRunInfo[] }> {
  const runs = await listRuns();
  return { runs: runs.length, bytes: runs.reduce((n, r) => n + r.bytes, 0), index: runs };
}
