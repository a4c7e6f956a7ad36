// The head map and "heads like this one": which similarity is chosen, the distances and map
// layouts the heads worker computed for the result on screen (kept until another result
// replaces it), and whether the map is open. Out of React, like the other stores.
import { createStore } from 'zustand/vanilla';
import { useStore } from 'zustand';
import type { HeadDistances, HeadSimilarityKind } from '@/lib/analysis/headSimilarity';
import { NOT_LOADED } from '@/lib/protocol/heads';
import type { HeadMapMethod } from '@/lib/views/headMap';
import type { HeadFigure } from '@/lib/views/headFigures';
import { RpcError } from '@/lib/worker/rpc';
import { appStore } from '../state/appStore';
import { headsClient } from './workers';

export type HeadMapColour = 'layer' | HeadFigure;

export interface HeadMapState {
  open: boolean;
  kind: HeadSimilarityKind;
  method: HeadMapMethod;
  dims: 2 | 3;
  colour: HeadMapColour;
  /** The shown result these belong to. */
  resultId: number | null;
  distances: Partial<Record<HeadSimilarityKind, HeadDistances>>;
  layouts: Record<string, Float32Array>;
  /** What the worker is computing now, or why it failed. */
  busy: string | null;
  error: string | null;
}

export const headMapStore = createStore<HeadMapState>(() => ({
  open: false,
  kind: 'attention',
  method: 'umap',
  dims: 2,
  colour: 'layer',
  resultId: null,
  distances: {},
  layouts: {},
  busy: null,
  error: null,
}));
export const useHeadMap = <T>(select: (s: HeadMapState) => T): T => useStore(headMapStore, select);

const set = headMapStore.setState;
const get = headMapStore.getState;

export const layoutKey = (kind: HeadSimilarityKind, method: HeadMapMethod, dims: 2 | 3) => `${kind}|${method}|${dims}`;

let loaded: number | null = null;

/** Sends the shown result to the heads worker (once per result). */
async function load(): Promise<number | null> {
  const shown = appStore.getState().shown;
  if (!shown) return null;
  if (get().resultId !== shown.id) set({ resultId: shown.id, distances: {}, layouts: {}, error: null });
  if (loaded !== shown.id) {
    const { data, analysis, vectors } = shown.result;
    if (!vectors) return null;
    await headsClient.call('load', { id: shown.id, data, vectors, norms: analysis.params.paper });
    loaded = shown.id;
  }
  return shown.id;
}

/** Calls the worker, loading the run again if it restarted (or holds another). */
async function withRun<T>(what: string, call: (id: number) => Promise<T>): Promise<T | null> {
  set({ busy: what, error: null });
  try {
    for (let attempt = 0; ; attempt++) {
      const id = await load();
      if (id === null) return null;
      try {
        const value = await call(id);
        return get().resultId === id ? value : null;
      } catch (e) {
        if (e instanceof RpcError && e.kind === NOT_LOADED && attempt === 0) {
          loaded = null;
          continue;
        }
        throw e;
      }
    }
  } catch (e) {
    set({ error: `Comparing the heads failed: ${(e as Error).message}` });
    return null;
  } finally {
    set({ busy: null });
  }
}

const pending = new Map<string, Promise<unknown>>();
function once<T>(key: string, make: () => Promise<T>): Promise<T> {
  const id = appStore.getState().shown?.id;
  const k = `${id}|${key}`;
  if (!pending.has(k))
    pending.set(
      k,
      make().finally(() => pending.delete(k)),
    );
  return pending.get(k) as Promise<T>;
}

export function ensureDistances(kind: HeadSimilarityKind = get().kind): Promise<void> {
  if (get().distances[kind] && get().resultId === appStore.getState().shown?.id) return Promise.resolve();
  const shown = appStore.getState().shown;
  if (shown && !shown.result.vectors) {
    set({
      error: `This bundle holds no ${kind === 'attention' ? 'attention' : 'Q/K geometry'} similarity of its heads, and not the vectors to compute it from.`,
    });
    return Promise.resolve();
  }
  return once(`d|${kind}`, async () => {
    const d = await withRun(kind === 'attention' ? 'Comparing every pair of heads’ attention…' : 'Comparing every pair of heads’ query/key clouds…', (id) =>
      headsClient.call('distances', { id, kind }),
    );
    if (d) set({ distances: { ...get().distances, [kind]: d } });
  });
}

export function ensureLayout(): Promise<void> {
  const { kind, method, dims } = get();
  const key = layoutKey(kind, method, dims);
  if (get().layouts[key] && get().resultId === appStore.getState().shown?.id) return Promise.resolve();
  return once(`l|${key}`, async () => {
    await ensureDistances(kind);
    const coords = await withRun(`Placing the heads (${method.toUpperCase()} ${dims}D)…`, (id) => headsClient.call('layout', { id, kind, method, dims }));
    if (coords) set({ layouts: { ...get().layouts, [key]: coords } });
  });
}

export function setHeadMap(patch: Partial<Pick<HeadMapState, 'open' | 'kind' | 'method' | 'dims' | 'colour'>>): void {
  set(patch);
  if (get().open) void ensureLayout();
  else if (patch.kind) void ensureDistances(patch.kind);
}

// A new result: what was computed for the last one no longer applies.
appStore.subscribe((s, previous) => {
  if (s.shown?.id === previous.shown?.id) return;
  set({ resultId: s.shown?.id ?? null, distances: {}, layouts: {}, error: null });
  if (s.shown && get().open) void ensureLayout();
});
