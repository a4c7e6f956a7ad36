// Keyboard shortcuts work wherever the page has the keyboard, except where the focused
// control uses the key itself: text fields take every key, radio groups and sliders the arrows.

const ARROWS = new Set(['ArrowLeft', 'ArrowRight', 'ArrowUp', 'ArrowDown']);

/** Set where the explorer is one part of a larger page (the notebook widget): only keys aimed inside it are its. */
let keyRoot: HTMLElement | null = null;

export function setKeyRoot(root: HTMLElement | null): void {
  keyRoot = root;
}

/** Whether the control a key event goes to uses that key itself (or, embedded, lies outside the explorer). */
export function typingIn(event: KeyboardEvent): boolean {
  const el = event.target as HTMLElement | null;
  if (keyRoot && !(el instanceof Node && keyRoot.contains(el))) return true;
  if (!el || typeof el.closest !== 'function') return false;
  if (el.isContentEditable) return true;
  const field = el.closest('input, select, textarea');
  if (!field) return false;
  if (!(field instanceof HTMLInputElement)) return true;
  if (field.type === 'checkbox' || field.type === 'button') return false;
  if (field.type === 'radio' || field.type === 'range') return ARROWS.has(event.key);
  return true;
}
