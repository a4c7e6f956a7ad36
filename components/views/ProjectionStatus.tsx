'use client';
// The projections' progress, read from the layout store: heads done per method for the
// vectors and dimensions shown, the UMAP epoch of the head in progress, what was computed and
// what came from the cache; and, in the head view, that its layout is on its way. Only this
// text re-renders as layouts and epoch ticks arrive.
import { useSyncExternalStore } from 'react';
import { formatDuration } from '@/lib/util/format';
import type { LayoutStore, LayoutView } from '../projection/LayoutStore';
import { viewSlot } from '../projection/LayoutStore';
import type { ProjectionScheduler } from '../projection/ProjectionScheduler';
import { useView, viewStore } from '../state/viewStore';

function statusText(layouts: LayoutStore, views: LayoutView[], workers: number, computing: boolean): string {
  const total = layouts.layers * layouts.heads;
  const main = views[views.length - 1];
  const part = (method: 'pca' | 'umap') => {
    const v = { ...main, method };
    const at = layouts.completedAt.get(viewSlot(v));
    const count = layouts.count(v);
    // A bundle without its vectors cannot compute what it did not bring.
    if (!computing && count < total) return `${method.toUpperCase()} ${count ? `${count}/${total} heads, the rest` : ''} not in this bundle`.replace('  ', ' ');
    return `${method.toUpperCase()} ${count}/${total} heads${at !== undefined ? ` (${formatDuration(at)})` : ''}`;
  };
  const tick = layouts.epoch;
  const parts = [part('pca'), part('umap')];
  if (tick) parts.push(`L${tick.layer} H${tick.head}: epoch ${tick.epoch}/${tick.epochs}`);
  parts.push(
    `computed: PCA ${layouts.computed.pca}, UMAP ${layouts.computed.umap}${layouts.umapKernel ? ` (in ${layouts.umapKernel})` : ''}`,
    `${layouts.cached} from cache`,
    `${workers} worker(s)`,
  );
  if (views.length === 2 && views[0].mode !== main.mode) {
    const raw = views[0];
    parts.push(`raw vectors: PCA ${layouts.count({ ...raw, method: 'pca' })}/${total}, UMAP ${layouts.count({ ...raw, method: 'umap' })}/${total}`);
  }
  return parts.join(' · ');
}

export function ProjectionStatus({ layouts, scheduler, views }: { layouts: LayoutStore; scheduler: ProjectionScheduler; views: LayoutView[] }) {
  const key = JSON.stringify(views);
  const text = useSyncExternalStore(layouts.subscribe, () => statusText(layouts, JSON.parse(key), scheduler.size, scheduler.canCompute));
  const busy = useSyncExternalStore(layouts.subscribe, () => scheduler.pending > 0);
  const errors = useSyncExternalStore(layouts.subscribe, () => layouts.errors);
  return (
    <div className="projection-status">
      <p className="line" data-testid="projection-status">
        {text}
      </p>
      {busy ? (
        <button type="button" className="tool" onClick={() => scheduler.stop()}>
          Stop projecting
        </button>
      ) : (
        scheduler.stopped && (
          <button type="button" className="tool" onClick={() => void scheduler.want(JSON.parse(key), viewStore.getState().focus)}>
            Resume projecting
          </button>
        )
      )}
      {errors.length > 0 && (
        <p className="error" role="alert">
          {errors.join('; ')}
        </p>
      )}
    </div>
  );
}

/** In the head view: which of the shown layouts of the focused head are still on their way. */
export function WaitingNotice({
  layouts,
  views,
  captions,
  computing = true,
}: {
  layouts: LayoutStore;
  views: LayoutView[];
  captions: string[];
  computing?: boolean;
}) {
  const focus = useView((s) => s.focus);
  const key = JSON.stringify([views, captions, focus]);
  const waiting = useSyncExternalStore(layouts.subscribe, () => {
    if (!focus) return '';
    const [vs, cs] = JSON.parse(key) as [LayoutView[], string[]];
    return vs
      .map((v, i) => (layouts.has(v, focus.layer, focus.head) ? null : cs[i]))
      .filter(Boolean)
      .join(' and ');
  });
  if (!focus || !waiting) return null;
  return (
    <p className="notice" role="status">
      {computing
        ? `The ${waiting} layout of L${focus.layer} H${focus.head} is being computed (moved to the front of the queue).`
        : `The ${waiting} layout of L${focus.layer} H${focus.head} is not in this bundle, and computing it needs the run’s vectors.`}
    </p>
  );
}

/** Over the canvas while a shown projection is still arriving: how many heads so far and how long the rest take. */
export function ArrivingNotice({ layouts, views, computing = true }: { layouts: LayoutStore; views: LayoutView[]; computing?: boolean }) {
  const key = JSON.stringify(views);
  const text = useSyncExternalStore(layouts.subscribe, () => {
    const total = layouts.layers * layouts.heads;
    const parts = (JSON.parse(key) as LayoutView[])
      .filter((v, i, all) => all.findIndex((w) => viewSlot(w) === viewSlot(v)) === i)
      .map((v) => {
        const n = layouts.count(v);
        if (n === total) return null;
        const left = layouts.remainingMs(v);
        if (!computing)
          return `${v.method.toUpperCase()} ${v.dims}D of these vectors is not in this bundle (${n} of ${total} heads); computing it needs the run’s vectors`;
        return `${v.method.toUpperCase()}: ${n} of ${total} heads so far${left !== null ? `, about ${formatDuration(left)} for the rest` : ''}`;
      })
      .filter(Boolean);
    return parts.length ? `${parts.join('; ')}.${computing ? ' Heads appear as they finish.' : ' Choose the view the bundle holds.'}` : '';
  });
  if (!text) return null;
  return (
    <p className="notice" role="status" data-testid="arriving">
      {text}
    </p>
  );
}
