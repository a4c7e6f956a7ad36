'use client';
// The explorer's frame, shared by the page (App) and the notebook widget (widget/WidgetApp): a bar
// on top, collapsible controls on the left, the canvas with the heads table in a drawer under it,
// and the details panel on the right; and the buttons that fold the side panels.
import type { ReactNode } from 'react';
import { setPanels, useView } from '../state/viewStore';
import { DetailsPanel } from './DetailsPanel';
import { HeadsDrawer } from './HeadsDrawer';
import { Shortcuts } from './Shortcuts';
import { Stage } from './Stage';

const TOGGLES = {
  left: { shown: '⟨ Controls', hidden: 'Controls ⟩', hide: 'Hide the controls', show: 'Show the controls' },
  right: { shown: 'Details ⟩', hidden: '⟨ Details', hide: 'Hide the details', show: 'Show the details' },
} as const;

/** Folds or unfolds one side panel. */
export function PanelToggle({ side }: { side: 'left' | 'right' }) {
  const open = useView((s) => s.panels[side]);
  const t = TOGGLES[side];
  return (
    <button type="button" className="tool" aria-pressed={open} onClick={() => setPanels({ [side]: !open })} title={open ? t.hide : t.show}>
      {open ? t.shown : t.hidden}
    </button>
  );
}

export function Explorer({ bar, controls }: { bar: ReactNode; controls: ReactNode }) {
  const left = useView((s) => s.panels.left);
  const right = useView((s) => s.panels.right);
  return (
    <div className={`app${left ? '' : ' no-left'}${right ? '' : ' no-right'}`}>
      {bar}
      {left && controls}
      <div className="centre">
        <Stage />
        <HeadsDrawer />
      </div>
      {right && <DetailsPanel />}
      <Shortcuts />
    </div>
  );
}
