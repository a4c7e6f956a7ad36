'use client';
// The heads table in a drawer under the canvas. Choosing a head flies into it and closes the
// drawer (so the head gets the whole canvas) unless it is kept open.
import { countImproved } from '@/lib/analysis/analyze';
import { useApp } from '../state/appStore';
import { flyTo, setPanels, useView } from '../state/viewStore';
import { HeadFiguresTable } from '../views/HeadFiguresTable';
import { MODE_LABELS } from '../views/modes';

export function HeadsDrawer() {
  const shown = useApp((s) => s.shown);
  const open = useView((s) => s.panels.table);
  const pinned = useView((s) => s.panels.tablePinned);
  const mode = useView((s) => s.mode);
  if (!open || !shown) return null;
  return (
    <section className="drawer" aria-label="Heads at a glance">
      <header className="drawer-head">
        <h2>All heads · {MODE_LABELS[mode]} vectors</h2>
        <span className="muted" data-testid="improved-count">
          {mode === 'raw'
            ? 'Raw vectors, as the model computes them.'
            : `${MODE_LABELS[mode]} puts attended keys closer than raw (attention-weighted distance ÷ chance) on ${countImproved(shown.result.analysis, mode, 'weightedDistanceRatio')} of ${shown.result.analysis.heads.length} heads.`}{' '}
          Sort by a column; click a head to fly into it. “Cell colour” paints the same scale onto the matrix.
        </span>
        <label className="inline">
          <input type="checkbox" checked={pinned} onChange={(e) => setPanels({ tablePinned: e.target.checked })} /> Keep open
        </label>
        <button type="button" className="tool" onClick={() => setPanels({ table: false })} aria-label="Close the heads table">
          ✕
        </button>
      </header>
      <HeadFiguresTable
        analysis={shown.result.analysis}
        mode={mode}
        onOpen={(layer, head) => {
          flyTo({ layer, head });
          if (!pinned) setPanels({ table: false });
        }}
      />
    </section>
  );
}
