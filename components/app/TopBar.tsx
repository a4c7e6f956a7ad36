'use client';
// The top bar: the product, the model, the device it is ready on (and why, when not the
// preferred one), opening a bundle, and the panel toggles.
import { useRef } from 'react';
import { DeviceBadge } from '../panels/DeviceBadge';
import { openBundleFile } from './bundles';
import { useApp } from '../state/appStore';
import { PanelToggle } from './Explorer';

export function TopBar() {
  const model = useApp((s) => s.manifest?.name);
  const prepared = useApp((s) => (s.prepared && s.prepared.preference === s.device ? s.prepared : null));
  const bundleInput = useRef<HTMLInputElement>(null);
  return (
    <header className="topbar">
      <PanelToggle side="left" />
      <h1>QKViz</h1>
      <span className="tagline">queries and keys of every attention head{model ? ` · ${model}` : ''}, computed in your browser</span>
      <span className="spacer" />
      <button
        type="button"
        className="tool"
        onClick={() => bundleInput.current?.click()}
        title="Open a .qkviz bundle (made by `qkviz bundle` or Export → Run as bundle); or drop one on the window"
      >
        Open bundle…
      </button>
      <input
        ref={bundleInput}
        type="file"
        accept=".qkviz"
        hidden
        data-testid="bundle-file"
        onChange={(e) => {
          const file = e.target.files?.[0];
          e.target.value = '';
          if (file) void openBundleFile(file);
        }}
      />
      {prepared && (
        <span className="topbar-device" data-testid="prepared-device">
          model ready on <DeviceBadge device={prepared.device} />
        </span>
      )}
      <PanelToggle side="right" />
    </header>
  );
}
