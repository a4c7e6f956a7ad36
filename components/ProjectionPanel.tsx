'use client';
// After a run: projects every head (PCA for all heads first, then UMAP head by head in a
// worker pool), shows each head's layout as it arrives, and caches finished layouts in
// IndexedDB so reopening the same corpus needs no recomputation.
import { useEffect, useMemo, useRef, useState } from 'react';
import type { NormalizationMode } from '@/lib/analysis/normalize';
import { ModeSelect } from './ModeSelect';
import { MatrixView } from './canvas/MatrixView';
import type { RunResult } from '@/lib/protocol/model';
import { corpusHash, projectionKey } from '@/lib/projection/cacheKey';
import { DEFAULT_PROJECTION, type ProjectionMethod, type ProjectionParams, jointVectors } from '@/lib/projection/project';
import { loadHead, saveHead } from './projection/cache';
import { HeadThumbnail, THUMB_SIZE } from './projection/HeadThumbnail';
import { type HeadTask, ProjectionPool } from './projection/ProjectionPool';

const METHODS: ProjectionMethod[] = ['pca', 'umap'];

interface Status {
  done: Record<ProjectionMethod, number>;
  cached: number;
  firstMatrixMs: Record<ProjectionMethod, number | null>;
  current: { layer: number; head: number; epoch: number; epochs: number } | null;
  errors: string[];
}

const emptyStatus = (): Status => ({ done: { pca: 0, umap: 0 }, cached: 0, firstMatrixMs: { pca: null, umap: null }, current: null, errors: [] });

export function ProjectionPanel({ result }: { result: RunResult }) {
  const { data, analysis, manifest } = result;
  const total = data.layers * data.heads;
  const [mode, setMode] = useState<NormalizationMode>('optimized');
  const [method, setMethod] = useState<ProjectionMethod>('pca');
  const [dims, setDims] = useState<2 | 3>(3);
  const [status, setStatus] = useState<Status>(emptyStatus);
  const [version, setVersion] = useState(0);
  const [selected, setSelected] = useState<{ layer: number; head: number } | null>(null);
  const layouts = useRef(new Map<string, Float32Array>());
  const poolRef = useRef<ProjectionPool | null>(null);
  const slot = (m: ProjectionMethod, l: number, h: number) => `${mode}|${m}|${dims}|${l}|${h}`;

  useEffect(() => {
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
    const keys = {} as Record<ProjectionMethod, string>;
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
  }, [mode, dims, result]);

  const cells = useMemo(
    () =>
      Array.from({ length: data.layers }, (_, l) =>
        Array.from({ length: data.heads }, (_, h) => ({ l, h, coords: layouts.current.get(slot(method, l, h)) ?? null })),
      ),
    // eslint-disable-next-line react-hooks/exhaustive-deps
    [version, method, mode, dims, data],
  );
  const seconds = (ms: number | null) => (ms === null ? '…' : `${(ms / 1000).toFixed(1)} s`);
  const current = status.current;

  return (
    <section className="card" aria-label="Projections">
      <h2>Projections</h2>
      <div className="controls">
        <fieldset className="choices">
          <legend className="sr-only">Projection method</legend>
          {METHODS.map((m) => (
            <label key={m}>
              <input type="radio" name="projection-method" value={m} checked={method === m} onChange={() => setMethod(m)} />
              {m.toUpperCase()}
            </label>
          ))}
        </fieldset>
        <label>
          Dimensions{' '}
          <select value={dims} onChange={(e) => setDims(Number(e.target.value) as 2 | 3)}>
            <option value={3}>3D</option>
            <option value={2}>2D</option>
          </select>
        </label>
        <ModeSelect label="Vectors" value={mode} onChange={setMode} />
        <button type="button" className="secondary" disabled={!poolRef.current?.pending} onClick={() => poolRef.current?.cancel()}>
          Stop projecting
        </button>
      </div>
      <p className="status" data-testid="projection-status">
        PCA {status.done.pca}/{total} heads ({seconds(status.firstMatrixMs.pca)}) · UMAP {status.done.umap}/{total} heads (
        {seconds(status.firstMatrixMs.umap)})
        {current && ` · L${current.layer} H${current.head}: epoch ${current.epoch}/${current.epochs}`}
        {status.cached > 0 && ` · ${status.cached} from cache`} · {poolRef.current?.size ?? 0} worker(s)
      </p>
      {status.errors.length > 0 && (
        <p className="error" role="alert">
          {status.errors.join('; ')}
        </p>
      )}
      <MatrixView
        layers={data.layers}
        heads={data.heads}
        points={2 * data.tokenCount}
        dims={dims}
        layout={(l, h) => layouts.current.get(slot(method, l, h)) ?? null}
        version={version * 4 + METHODS.indexOf(method)}
      />
      <div className="thumbs" style={{ gridTemplateColumns: `auto repeat(${data.heads}, ${THUMB_SIZE}px)` }}>
        {cells.map((row, l) => [
          <span key={`l${l}`} className="row-label">
            L{l}
          </span>,
          ...row.map(({ h, coords }) => (
            <HeadThumbnail
              key={`${l}-${h}`}
              coords={coords}
              dims={dims}
              label={`L${l} H${h}`}
              progress={current && current.layer === l && current.head === h && method === 'umap' ? current.epoch / current.epochs : undefined}
              selected={selected?.layer === l && selected?.head === h}
              onSelect={() => {
                setSelected({ layer: l, head: h });
                // The selected head's pending layouts jump the queue.
                poolRef.current?.prioritize((t) => t.layer === l && t.head === h);
              }}
            />
          )),
        ])}
      </div>
    </section>
  );
}
