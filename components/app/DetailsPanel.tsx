'use client';
// The right panel: what is on screen, in detail. In the head view the selection and its
// sentence view come first, then the head's figures, its value cloud and diagnostics, then the result; in the
// matrix, the result and the head under the pointer.
import { HeadDetails } from '../panels/HeadDetails';
import { SimilarHeads } from '../panels/SimilarHeads';
import { RunSummary } from '../panels/RunSummary';
import { SelectionPanel } from '../panels/SelectionPanel';
import { useApp } from '../state/appStore';
import { useView } from '../state/viewStore';
import { Diagnostics } from '../views/Diagnostics';
import { ValueCloud } from '../views/ValueCloud';
import { ImageStrip } from '../views/ImageStrip';

export function DetailsPanel() {
  const shown = useApp((s) => s.shown);
  const focus = useView((s) => s.focus);
  const mode = useView((s) => s.mode);
  if (!shown) {
    return (
      <aside className="details" aria-label="Details">
        <section className="panel-section">
          <h2>Details</h2>
          <p className="line muted">After a run, the head under the pointer, the selected sentence and the head’s diagnostics appear here.</p>
        </section>
      </aside>
    );
  }
  return (
    <aside className="details" aria-label="Details">
      {focus ? (
        <>
          <SelectionPanel result={shown.result} />
          <ImageStrip result={shown.result} />
          <HeadDetails result={shown.result} />
          <ValueCloud result={shown.result} layer={focus.layer} head={focus.head} />
          <SimilarHeads layer={focus.layer} head={focus.head} />
          <Diagnostics result={shown.result} layer={focus.layer} head={focus.head} mode={mode} />
          <RunSummary />
        </>
      ) : (
        <>
          <RunSummary />
          <ImageStrip result={shown.result} />
          <HeadDetails result={shown.result} />
        </>
      )}
    </aside>
  );
}
