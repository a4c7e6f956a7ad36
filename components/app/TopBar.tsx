'use client';
// The top bar: the product, the model, the device it is ready on (and why, when not the
// preferred one), and the panel toggles.
import { DeviceBadge } from '../panels/DeviceBadge';
import { useApp } from '../state/appStore';
import { setPanels, useView } from '../state/viewStore';

export function TopBar() {
  const left = useView((s) => s.panels.left);
  const right = useView((s) => s.panels.right);
  const model = useApp((s) => s.manifest?.name);
  const prepared = useApp((s) => (s.prepared && s.prepared.preference === s.device ? s.prepared : null));
  return (
    <header className="topbar">
      <button type="button" className="tool" aria-pressed={left} onClick={() => setPanels({ left: !left })} title={left ? 'Hide the controls' : 'Show the controls'}>
        {left ? '⟨ Controls' : 'Controls ⟩'}
      </button>
      <h1>QKViz</h1>
      <span className="tagline">queries and keys of every attention head{model ? ` · ${model}` : ''}, computed in your browser</span>
      <span className="spacer" />
      {prepared && (
        <span className="topbar-device" data-testid="prepared-device">
          model ready on <DeviceBadge device={prepared.device} />
        </span>
      )}
      <button type="button" className="tool" aria-pressed={right} onClick={() => setPanels({ right: !right })} title={right ? 'Hide the details' : 'Show the details'}>
        {right ? 'Details ⟩' : '⟨ Details'}
      </button>
    </header>
  );
}
