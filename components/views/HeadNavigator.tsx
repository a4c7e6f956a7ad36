'use client';
// Choosing the head to look at: layer and head fields with "Go to head", and in the head
// view buttons to the adjacent heads (layer ±1, head ±1), reset and back to the matrix.
import { useEffect, useState } from 'react';
import type { Cell } from '../canvas/QKScene';

interface Props {
  layers: number;
  heads: number;
  focus: Cell | null;
  onFocus: (cell: Cell | null) => void;
  onStep: (dLayer: number, dHead: number) => void;
  onReset: () => void;
}

export function HeadNavigator({ layers, heads, focus, onFocus, onStep, onReset }: Props) {
  const [target, setTarget] = useState({ layer: '0', head: '0' });
  useEffect(() => {
    if (focus) setTarget({ layer: String(focus.layer), head: String(focus.head) });
  }, [focus]);
  const layer = Number(target.layer);
  const head = Number(target.head);
  const valid = target.layer !== '' && target.head !== '' && Number.isInteger(layer) && Number.isInteger(head) && layer >= 0 && layer < layers && head >= 0 && head < heads;
  const button = (label: string, title: string, disabled: boolean, onClick: () => void) => (
    <button type="button" className="secondary small" disabled={disabled} onClick={onClick} title={title}>
      {label}
    </button>
  );
  return (
    <div className="controls nav-controls">
      <label>
        Layer <input type="number" className="narrow" min={0} max={layers - 1} value={target.layer} onChange={(e) => setTarget((t) => ({ ...t, layer: e.target.value }))} />
      </label>
      <label>
        Head <input type="number" className="narrow" min={0} max={heads - 1} value={target.head} onChange={(e) => setTarget((t) => ({ ...t, head: e.target.value }))} />
      </label>
      {button('Go to head', `Fly into layer ${target.layer}, head ${target.head}`, !valid, () => onFocus({ layer, head }))}
      {focus ? (
        <>
          <strong className="head-title" data-testid="head-title">
            Head L{focus.layer} H{focus.head}
          </strong>
          {button('↑ Previous layer', 'Previous layer (↑)', focus.layer === 0, () => onStep(-1, 0))}
          {button('↓ Next layer', 'Next layer (↓)', focus.layer === layers - 1, () => onStep(1, 0))}
          {button('← Previous head', 'Previous head (←)', focus.head === 0, () => onStep(0, -1))}
          {button('Next head →', 'Next head (→)', focus.head === heads - 1, () => onStep(0, 1))}
          {button('Back to matrix', 'Back to all heads (Esc)', false, () => onFocus(null))}
        </>
      ) : (
        <span className="hint">Click a head in the matrix, or choose one here, to fly into it.</span>
      )}
      {button('Reset view', 'Back to the default camera for this view', false, onReset)}
    </div>
  );
}
