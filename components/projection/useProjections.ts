'use client';
// Projects every head of a run (PCA for all heads first, then UMAP head by head in a worker
// pool), keeps the layouts as they arrive, and caches finished layouts in IndexedDB so
// reopening the same corpus needs no recomputation.
import { useCallback, useEffect, useRef, useState } from 'react';
import type { NormalizationMode } from '@/lib/analysis/normalize';
import type { RunResult } from '@/lib/protocol/model';
import { corpusHash, projectionKey } from '@/lib/projection/cacheKey';
import { DEFAULT_PROJECTION, type ProjectionMethod, type ProjectionParams, jointVectors } from '@/lib/projection/project';
import { loadHead, saveHead } from './cache';
import { type HeadTask, ProjectionPool } from './ProjectionPool';

export const METHODS: ProjectionMethod[] = ['pca', 'umap'];

export interface ProjectionStatus {
  done: Record<ProjectionMethod, number>;
  cached: number;
  firstMatrixMs: Record<ProjectionMethod, number | null>;
  current: { layer: number; head: number; epoch: number; epochs: number } | null;
  errors: string[];
}

const emptyStatus = (): ProjectionStatus => ({ done: { pca: 0, umap: 0 }, cached: 0, firstMatrixMs: { pca: null, umap: null }, current: null, errors: [] });

/** `enabled: false` keeps the hook idle (compare mode's second set of layouts when not shown). */
export function useProjections(result: RunResult, mode: NormalizationMode, dims: 2 | 3, enabled = true) {
  const { data, analysis, manifest } = result;
  const total = data.layers * data.heads;
  const [status, setStatus] = useState<ProjectionStatus>(emptyStatus);
  const [version, setVersion] = useState(0);
  const layouts = useRef(new Map<string, Float32Array>());
  const poolRef = useRef<ProjectionPool | null>(null);
  const slot = (m: ProjectionMethod, l: number, h: number) => `${mode}|${m}|${dims}|${l}|${h}`;

  useEffect(() => {
    if (!enabled) return;
    let cancelled = false;
    const started = performance.now();
    setStatus(emptyStatus());
    const count = (m: ProjectionMethod) => {
      let n = 0;
      for (let l = 0; l < data.layers; l++) for (let h = 0; h < data.heads; h++) if (layouts.current.has(slot(m, l, h))) n++;
      return n;
    };
    const refresh = (m: ProjectionMethod) => {
      if (cancelled) return;
      const done = count(m);
      setStatus((s) => ({
        ...s,
        done: { ...s.done, [m]: done },
        firstMatrixMs: { ...s.firstMatrixMs, [m]: done === total && s.firstMatrixMs[m] === null ? performance.now() - started : s.firstMatrixMs[m] },
      }));
      setVersion((v) => v + 1);
    };
    const keys = {} as Record<ProjectionMethod, string>;
    const pool = new ProjectionPool({
      onDone: (task, coords) => {
        layouts.current.set(slot(task.params.method, task.layer, task.head), coords);
        void saveHead(keys[task.params.method], task.layer, task.head, coords);
        if (task.params.method === 'umap') setStatus((s) => ({ ...s, current: null }));
        refresh(task.params.method);
      },
      onProgress: (task, epoch, epochs) => !cancelled && setStatus((s) => ({ ...s, current: { layer: task.layer, head: task.head, epoch, epochs } })),
      onError: (task, message) => !cancelled && setStatus((s) => ({ ...s, errors: [...s.errors, `L${task.layer} H${task.head} (${task.params.method}): ${message}`] })),
    });
    poolRef.current = pool;
    (async () => {
      const hash = await corpusHash(data.sentences.map((s) => s.text));
      const tasks: HeadTask[] = [];
      let cached = 0;
      for (const m of METHODS) {
        const params: ProjectionParams = { ...DEFAULT_PROJECTION, method: m, dims };
        keys[m] = projectionKey(manifest.name, hash, mode, params);
        for (let l = 0; l < data.layers; l++) {
          for (let h = 0; h < data.heads; h++) {
            if (layouts.current.has(slot(m, l, h))) continue;
            const hit = await loadHead(keys[m], l, h);
            if (cancelled) return;
            if (hit) {
              layouts.current.set(slot(m, l, h), hit);
              cached++;
              continue;
            }
            const norm = analysis.params[mode][l * data.heads + h];
            tasks.push({ layer: l, head: h, params, dim: data.headDim, joint: () => jointVectors(data, l, h, norm), priority: m === 'pca' ? 0 : 1 + l * data.heads + h });
          }
        }
        refresh(m);
      }
      setStatus((s) => ({ ...s, cached }));
      pool.submit(tasks);
    })();
    return () => {
      cancelled = true;
      pool.cancel();
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [mode, dims, result, enabled]);

  const layoutOf = useCallback(
    (m: ProjectionMethod, l: number, h: number) => layouts.current.get(`${mode}|${m}|${dims}|${l}|${h}`) ?? null,
    [mode, dims],
  );
  /** Moves a head's pending layouts to the front of the queue. */
  const prioritize = useCallback((l: number, h: number) => poolRef.current?.prioritize((t) => t.layer === l && t.head === h), []);
  const stop = useCallback(() => poolRef.current?.cancel(), []);
  return { status, version, layoutOf, prioritize, stop, pending: poolRef.current?.pending ?? 0, workers: poolRef.current?.size ?? 0 };
}
