'use client';
// Taking a view away, from the toolbar's Export menu: the picture as PNG (both panes in
// compare mode), every head's figures as CSV, the current layouts as NPY (the CLI's layout),
// the whole run as a .qkviz bundle, and a link that reopens the view.
import { useEffect, useRef, useState } from 'react';

export function download(data: Blob, name: string): void {
  const url = URL.createObjectURL(data);
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/** Every view canvas inside `root`, side by side, as one PNG. */
async function viewsPng(root: HTMLElement): Promise<Blob | null> {
  const canvases = [...root.querySelectorAll<HTMLCanvasElement>('.matrix-view canvas')];
  if (!canvases.length) return null;
  const out = document.createElement('canvas');
  out.width = canvases.reduce((w, c) => w + c.width, 0);
  out.height = Math.max(...canvases.map((c) => c.height));
  const ctx = out.getContext('2d')!;
  let x = 0;
  for (const c of canvases) {
    ctx.drawImage(c, x, 0);
    x += c.width;
  }
  return new Promise((resolve) => out.toBlob(resolve, 'image/png'));
}

interface Props {
  root: React.RefObject<HTMLElement | null>;
  /** File name (without extension) of the picture. */
  baseName: string;
  /** File name of the coordinates, which hold every head. */
  coordsName: string;
  figuresCsv: () => string;
  /** The NPY file, or null while some head's layout is missing. */
  /** Every head's layout of the main view as .npy (large runs' full layouts are read or recomputed head by head). */
  coords: () => Promise<Uint8Array | null>;
  /** Why the coordinates cannot be exported yet, or null when they can (asked when the menu opens). */
  coordsPending: () => string | null;
  shareUrl: () => string;
  /** Downloads the run as a .qkviz bundle; resolves to what was saved. */
  saveBundle: () => Promise<string>;
}

export function ExportMenu(props: Props) {
  const [open, setOpen] = useState(false);
  const menu = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (!open) return;
    const close = (e: PointerEvent) => !menu.current?.contains(e.target as Node) && setOpen(false);
    // Esc closes the menu and nothing else (the page's shortcuts skip a handled key).
    const escape = (e: KeyboardEvent) => {
      if (e.key !== 'Escape') return;
      e.preventDefault();
      setOpen(false);
    };
    window.addEventListener('pointerdown', close);
    window.addEventListener('keydown', escape, true);
    return () => {
      window.removeEventListener('pointerdown', close);
      window.removeEventListener('keydown', escape, true);
    };
  }, [open]);
  return (
    <div className="menu" ref={menu}>
      <button type="button" className="tool" aria-expanded={open} aria-haspopup="true" onClick={() => setOpen((o) => !o)}>
        Export ▾
      </button>
      {open && <Actions {...props} />}
    </div>
  );
}

/** The open menu; whether the coordinates can be exported is asked as it opens. */
function Actions({ root, baseName, coordsName, figuresCsv, coords, coordsPending, shareUrl, saveBundle }: Props) {
  const [link, setLink] = useState<string | null>(null);
  const [message, setMessage] = useState<string | null>(null);
  const pending = coordsPending();
  return (
    <div className="menu-popover" role="group" aria-label="Export">
      <button
        type="button"
        className="secondary small"
        onClick={async () => {
          const png = root.current && (await viewsPng(root.current));
          if (png) download(png, `${baseName}.png`);
        }}
      >
        View as PNG
      </button>
      <button type="button" className="secondary small" onClick={() => download(new Blob([figuresCsv()], { type: 'text/csv' }), 'qkviz-head-figures.csv')}>
        Figures as CSV
      </button>
      <button
        type="button"
        className="secondary small"
        disabled={pending !== null}
        title={pending ?? 'float32 [layers, heads, 2N, dims]: queries then keys, as `qkviz project` writes'}
        onClick={async () => {
          const npy = await coords();
          if (npy) download(new Blob([npy as Uint8Array<ArrayBuffer>], { type: 'application/octet-stream' }), `${coordsName}-coords.npy`);
          else setMessage(coordsPending());
        }}
      >
        Coordinates as NPY
      </button>
      {pending && <p className="line muted">{pending}</p>}
      <button
        type="button"
        className="secondary small"
        title="One .qkviz file with the tokens, Q/K, attention, figures, every finished layout and the head similarities: opens here (or elsewhere) with no model run"
        onClick={async () => {
          setMessage('Writing the bundle…');
          setMessage(await saveBundle());
        }}
      >
        Run as bundle (.qkviz)
      </button>
      <button
        type="button"
        className="secondary small"
        onClick={() => {
          const url = shareUrl();
          setLink(url);
          navigator.clipboard?.writeText(url).then(
            () => setMessage('Link copied.'),
            () => setMessage(null),
          );
        }}
      >
        Share link
      </button>
      {link && <input className="share-link" readOnly value={link} aria-label="Link to this view" onFocus={(e) => e.target.select()} />}
      {message && <p className="line muted">{message}</p>}
    </div>
  );
}
