// The explorer as a notebook widget shows it: the page's canvas (matrix, fly-in, links), view
// controls, heads table and details panel, in the box the widget gives it. What needs a model
// (model picker, corpus, Run, the run store) stays with the page: the widget shows one bundle.
import { useMemo } from 'react';
import { searchTokens } from '@/lib/views/tokens';
import { Explorer, PanelToggle } from '@/components/app/Explorer';
import { useGlobalKeys } from '@/components/app/useGlobalKeys';
import { ViewSection } from '@/components/panels/ViewSection';
import { useApp } from '@/components/state/appStore';
import { useView } from '@/components/state/viewStore';
import { tableOf } from '@/components/views/useViewData';

const formatInt = (n: number) => n.toLocaleString('en-US');

function Controls() {
  const shown = useApp((s) => s.shown);
  const search = useView((s) => s.search);
  const results = useMemo(() => (shown && search.trim() ? 2 * searchTokens(tableOf(shown.result), search).length : null), [shown, search]);
  return (
    <aside className="sidebar" aria-label="Controls">
      <ViewSection results={results} />
    </aside>
  );
}

function WidgetBar() {
  const shown = useApp((s) => s.shown);
  const data = shown?.result.data;
  return (
    <header className="topbar">
      <PanelToggle side="left" />
      <h1>QKViz</h1>
      <span className="tagline" data-testid="widget-summary">
        {shown && data
          ? `${shown.result.manifest.name} · ${formatInt(data.tokenCount)} tokens · ${formatInt(data.sentences.length)} sentences · ${data.layers} layers × ${data.heads} heads${shown.bundle ? ` · ${shown.bundle.name}` : ''}`
          : 'queries and keys of every attention head'}
      </span>
      <span className="spacer" />
      <PanelToggle side="right" />
    </header>
  );
}

export function WidgetApp() {
  // Scoped to the widget (components/canvas/keys setKeyRoot): keys typed in the notebook are not the explorer's.
  useGlobalKeys();
  return (
    // A form of its own, so its radio groups are not joined with those of another explorer in the notebook.
    <form className="qkviz-form" onSubmit={(e) => e.preventDefault()}>
      <Explorer bar={<WidgetBar />} controls={<Controls />} />
    </form>
  );
}
