'use client';
// Shortcuts that work whenever the page has the keyboard and no text field does: Esc backs
// out (shortcut overlay, heads table, head view, selection), arrows step to the adjacent head, ? shows
// the shortcuts, T the heads table, R resets the camera, / goes to the search field. The fly
// keys (W/A/S/D/Q/E) are the camera rig's.
import { useEffect } from 'react';
import { typingIn } from '../canvas/keys';
import { flyTo, resetCamera, setPanels, setView, step, viewStore } from '../state/viewStore';

const STEPS: Record<string, [number, number]> = { ArrowLeft: [0, -1], ArrowRight: [0, 1], ArrowUp: [-1, 0], ArrowDown: [1, 0] };

export function useGlobalKeys(): void {
  useEffect(() => {
    const down = (e: KeyboardEvent) => {
      if (e.defaultPrevented || e.ctrlKey || e.metaKey || e.altKey || typingIn(e)) return;
      const s = viewStore.getState();
      if (e.key === 'Escape') {
        if (s.panels.help) setPanels({ help: false });
        else if (s.panels.table) setPanels({ table: false });
        else if (s.focus) flyTo(null);
        else if (s.selected !== null) setView({ selected: null });
        else return;
      } else if (STEPS[e.key] && s.focus) {
        step(...STEPS[e.key]);
      } else if (e.key === '?') {
        setPanels({ help: !s.panels.help });
      } else if (e.key === 't' || e.key === 'T') {
        setPanels({ table: !s.panels.table });
      } else if (e.key === 'f' || e.key === 'F') {
        setPanels({ hud: !s.panels.hud });
      } else if (e.key === 'r' || e.key === 'R') {
        resetCamera();
      } else if (e.key === '/') {
        document.getElementById('search-tokens')?.focus();
      } else return;
      e.preventDefault();
    };
    window.addEventListener('keydown', down);
    return () => window.removeEventListener('keydown', down);
  }, []);
}
