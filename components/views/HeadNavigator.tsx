'use client';
// The canvas's toolbar: where you are (all heads, or one), layer and head fields with "Go to
// head", steps to the adjacent heads (also ↑ ↓ ← →), back to the matrix (Esc), reset view.
import { useEffect, useState } from 'react';
import { flyTo, resetCamera, step, useView } from '../state/viewStore';

export function HeadNavigator({ layers, heads }: { layers: number; heads: number }) {
  const focus = useView((s) => s.focus);
  const [target, setTarget] = useState({ layer: '0', head: '0' });
  useEffect(() => {
    if (focus) setTarget({ layer: String(focus.layer), head: String(focus.head) });
  }, [focus]);
  const layer = Number(target.layer);
  const head = Number(target.head);
  const valid =
    target.layer !== '' && target.head !== '' && Number.isInteger(layer) && Number.isInteger(head) && layer >= 0 && layer < layers && head >= 0 && head < heads;
  const button = (label: string, name: string, title: string, disabled: boolean, onClick: () => void) => (
    <button type="button" className="tool" aria-label={name} disabled={disabled} onClick={onClick} title={title}>
      {label}
    </button>
  );
  return (
    <div className="toolbar-group nav-controls">
      {focus ? (
        <>
          {button('◱', 'Back to matrix', 'Back to all heads (Esc)', false, () => flyTo(null))}
          <strong className="head-title" data-testid="head-title">
            Head L{focus.layer} H{focus.head}
          </strong>
          {button('↑', 'Previous layer', 'Previous layer (↑)', focus.layer === 0, () => step(-1, 0))}
          {button('↓', 'Next layer', 'Next layer (↓)', focus.layer === layers - 1, () => step(1, 0))}
          {button('←', 'Previous head', 'Previous head (←)', focus.head === 0, () => step(0, -1))}
          {button('→', 'Next head', 'Next head (→)', focus.head === heads - 1, () => step(0, 1))}
        </>
      ) : (
        <strong className="head-title" data-testid="matrix-title">
          All {layers * heads} heads
        </strong>
      )}
      <form
        className="goto"
        onSubmit={(e) => {
          e.preventDefault();
          if (valid) flyTo({ layer, head });
        }}
      >
        <label title="Layer">
          L{' '}
          <input
            type="number"
            className="narrow"
            aria-label="Layer"
            min={0}
            max={layers - 1}
            value={target.layer}
            onChange={(e) => setTarget((t) => ({ ...t, layer: e.target.value }))}
          />
        </label>
        <label title="Head">
          H{' '}
          <input
            type="number"
            className="narrow"
            aria-label="Head"
            min={0}
            max={heads - 1}
            value={target.head}
            onChange={(e) => setTarget((t) => ({ ...t, head: e.target.value }))}
          />
        </label>
        <button type="submit" className="tool" disabled={!valid} aria-label="Go to head" title={`Fly into layer ${target.layer}, head ${target.head}`}>
          Go
        </button>
      </form>
      {button('⟲', 'Reset view', 'Back to the default camera for this view (R)', false, resetCamera)}
    </div>
  );
}
