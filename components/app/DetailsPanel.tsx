'use client';
// The right panel: what is on screen, in detail — the result (source, device, attention check),
// the head under the pointer or flown into, the selection with its sentence view, and the
// focused head's diagnostics.
import { HeadDetails } from '../panels/HeadDetails';
import { RunSummary } from '../panels/RunSummary';
import { SelectionPanel } from '../panels/SelectionPanel';
import { useApp } from '../state/appStore';
import { useView } from '../state/viewStore';
import { Diagnostics } from '../views/Diagnostics';

export function DetailsPanel() {
  const shown = useApp((s) => s.shown);
  const focus = useView((s) => s.focus);
  const mode = useView((s) => s.mode);
  return (
    <aside className="details" aria-label="Details">
      <RunSummary />
      {shown ? (
        <>
          <HeadDetails result={shown.result} />
          <SelectionPanel result={shown.result} />
          {focus && <Diagnostics result={shown.result} layer={focus.layer} head={focus.head} mode={mode} />}
        </>
      ) : (
        <section className="panel-section">
          <h2>Details</h2>
          <p className="line muted">After a run, the head under the pointer, the selected sentence and the head’s diagnostics appear here.</p>
        </section>
      )}
    </aside>
  );
}
