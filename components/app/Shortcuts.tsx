'use client';
// The shortcut overlay (?): every key and pointer gesture the canvas answers to.
import { setPanels, useView } from '../state/viewStore';

const KEYS: [string, string][] = [
  ['Click a head', 'fly into it'],
  ['Click a point', 'select its sentence: links and sentence view'],
  ['Drag · right-drag · wheel', 'orbit (3D) · pan · zoom'],
  ['W A S D', 'fly forward, left, back, right'],
  ['Q E', 'fly down, up'],
  ['← → ↑ ↓', 'previous / next head, previous / next layer'],
  ['Esc', 'back to the matrix (then: clear the selection)'],
  ['R', 'reset the camera'],
  ['T', 'heads table'],
  ['F', 'frame time and points drawn'],
  ['/', 'search tokens'],
  ['?', 'this overlay'],
];

export function Shortcuts() {
  const open = useView((s) => s.panels.help);
  if (!open) return null;
  return (
    <div className="overlay" role="dialog" aria-label="Shortcuts" onClick={() => setPanels({ help: false })}>
      <div className="overlay-card" onClick={(e) => e.stopPropagation()}>
        <h2>Keyboard and pointer</h2>
        <dl className="shortcuts">
          {KEYS.map(([k, what]) => (
            <div key={k}>
              <dt>
                <kbd>{k}</kbd>
              </dt>
              <dd>{what}</dd>
            </div>
          ))}
        </dl>
        <p className="line muted">Keys work whenever no text field has the keyboard.</p>
        <button type="button" className="secondary small" onClick={() => setPanels({ help: false })}>
          Close
        </button>
      </div>
    </div>
  );
}
