'use client';
// How points look: colour-by mode and palette, dot size and size by norm, token search with
// its result count, and the matrix cells' background figure.
import { COLOUR_MODES, type ColourMode, type PaletteName } from '@/lib/views/colour';
import { HEAD_FIGURES, type HeadFigure } from '@/lib/views/headFigures';

const PALETTE_LABELS: Record<PaletteName, string> = { reference: 'Reference (green / pink)', colourblind: 'Colour-blind safe (blue / orange)' };

interface Props {
  colourMode: ColourMode;
  onColourMode: (mode: ColourMode) => void;
  palette: PaletteName;
  onPalette: (palette: PaletteName) => void;
  dotSize: number;
  onDotSize: (size: number) => void;
  sizeByNorm: boolean;
  onSizeByNorm: (on: boolean) => void;
  search: string;
  onSearch: (text: string) => void;
  /** Matching points (queries and keys), or null when nothing is searched. */
  results: number | null;
  overlay: HeadFigure | 'none';
  onOverlay: (figure: HeadFigure | 'none') => void;
}

export function ViewControls({ colourMode, onColourMode, palette, onPalette, dotSize, onDotSize, sizeByNorm, onSizeByNorm, search, onSearch, results, overlay, onOverlay }: Props) {
  return (
    <div className="controls view-controls">
      <label>
        Colour by{' '}
        <select value={colourMode} onChange={(e) => onColourMode(e.target.value as ColourMode)}>
          {COLOUR_MODES.map(({ mode: m, label }) => (
            <option key={m} value={m}>
              {label}
            </option>
          ))}
        </select>
      </label>
      <label>
        Palette{' '}
        <select value={palette} onChange={(e) => onPalette(e.target.value as PaletteName)}>
          {(Object.keys(PALETTE_LABELS) as PaletteName[]).map((p) => (
            <option key={p} value={p}>
              {PALETTE_LABELS[p]}
            </option>
          ))}
        </select>
      </label>
      <label>
        Dot size <input type="range" min={1} max={8} step={0.5} value={dotSize} onChange={(e) => onDotSize(Number(e.target.value))} />
      </label>
      <label className="inline">
        <input type="checkbox" checked={sizeByNorm} onChange={(e) => onSizeByNorm(e.target.checked)} /> Size by norm
      </label>
      <label>
        Search tokens <input type="search" value={search} placeholder="e.g. the" onChange={(e) => onSearch(e.target.value)} />
      </label>
      {results !== null && (
        <span className="status" data-testid="search-results" role="status">
          {results} results
        </span>
      )}
      <label>
        Cell colour{' '}
        <select value={overlay} onChange={(e) => onOverlay(e.target.value as HeadFigure | 'none')}>
          <option value="none">None</option>
          {HEAD_FIGURES.map((f) => (
            <option key={f.key} value={f.key}>
              {f.label}
            </option>
          ))}
        </select>
      </label>
    </div>
  );
}
