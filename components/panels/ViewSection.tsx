'use client';
// Every control that changes what the canvas shows, in one compact block: projection and
// dimensions, vectors (normalization), compare mode, colour and palette, the matrix cells'
// figure, token search, dot size.
import { NORMALIZATION_MODES } from '@/lib/analysis/normalize';
import { COLOUR_MODES, type ColourMode, type PaletteName } from '@/lib/views/colour';
import { HEAD_FIGURES, type HeadFigure } from '@/lib/views/headFigures';
import type { CompareMode } from '@/lib/views/urlState';
import { useShallow } from 'zustand/react/shallow';
import { setView, useView } from '../state/viewStore';
import { Segmented } from '../ui/Segmented';
import { MODE_SHORT } from '../views/modes';

export const NO_VALUE_NORMS =
  'This run has no value norms: its model was converted before QKViz extracted them, or it came from a bundle without them. Run it again.';

const COMPARE_LABELS: Record<CompareMode, string> = { off: 'Off', normalization: 'Raw | normalized', projection: 'PCA | UMAP' };

function Row({ label, htmlFor, children }: { label: string; htmlFor?: string; children: React.ReactNode }) {
  return (
    <div className="row">
      {htmlFor ? (
        <label className="row-label" htmlFor={htmlFor}>
          {label}
        </label>
      ) : (
        <span className="row-label">{label}</span>
      )}
      {children}
    </div>
  );
}

/**
 * `valueNorms`: whether the shown run has value norms (null before any run); without them
 * the value-norm colouring is offered disabled, with why.
 */
export function ViewSection({ results, valueNorms = null, images = false }: { results: number | null; valueNorms?: boolean | null; images?: boolean }) {
  const v = useView(
    useShallow((s) => ({
      method: s.method,
      dims: s.dims,
      mode: s.mode,
      compare: s.compare,
      colourMode: s.colourMode,
      palette: s.palette,
      overlay: s.overlay,
      search: s.search,
      dotSize: s.dotSize,
      thumbnails: s.thumbnails,
      sizeByNorm: s.sizeByNorm,
    })),
  );
  return (
    <section className="panel-section view-section" aria-label="View">
      <h2>View</h2>
      <Row label="Projection">
        <Segmented
          label="Projection method"
          name="projection-method"
          value={v.method}
          options={[
            { value: 'pca', label: 'PCA' },
            { value: 'umap', label: 'UMAP' },
          ]}
          onChange={(method) => setView({ method })}
        />
        <Segmented
          label="Dimensions"
          name="dimensions"
          value={v.dims}
          options={[
            { value: 3, label: '3D' },
            { value: 2, label: '2D' },
          ]}
          onChange={(dims) => setView({ dims })}
        />
      </Row>
      <Row label="Vectors">
        <Segmented
          label="Vectors"
          name="vectors"
          value={v.mode}
          options={NORMALIZATION_MODES.map((m) => ({
            value: m,
            label: MODE_SHORT[m],
            title:
              m === 'paper'
                ? 'AttentionViz’s closed form: translate keys by mean(Q) − mean(K), then balance the scales'
                : m === 'optimized'
                  ? 'Translation and scale chosen per head to put attended keys nearest'
                  : 'The model’s own projections',
          }))}
          onChange={(mode) => setView({ mode })}
        />
      </Row>
      <Row label="Compare" htmlFor="compare">
        <select id="compare" value={v.compare} onChange={(e) => setView({ compare: e.target.value as CompareMode })}>
          {(Object.keys(COMPARE_LABELS) as CompareMode[]).map((c) => (
            <option key={c} value={c}>
              {COMPARE_LABELS[c]}
            </option>
          ))}
        </select>
      </Row>
      <Row label="Colour by" htmlFor="colour-by">
        <select id="colour-by" value={v.colourMode} onChange={(e) => setView({ colourMode: e.target.value as ColourMode })}>
          {COLOUR_MODES.filter((m) => (images ? !m.text : !m.images)).map(({ mode, label }) => (
            <option
              key={mode}
              value={mode}
              disabled={mode === 'valueNorm' && valueNorms === false}
              title={mode === 'valueNorm' && valueNorms === false ? NO_VALUE_NORMS : undefined}
            >
              {label}
            </option>
          ))}
        </select>
      </Row>
      <Row label="Palette">
        <Segmented<PaletteName>
          label="Palette"
          name="palette"
          value={v.palette}
          options={[
            { value: 'reference', label: 'Reference', title: 'AttentionViz’s green queries, pink keys' },
            { value: 'colourblind', label: 'Colour-blind', title: 'Okabe–Ito blue / orange, safe for the common colour-vision deficiencies' },
          ]}
          onChange={(palette) => setView({ palette })}
        />
      </Row>
      <Row label="Cell colour" htmlFor="cell-colour">
        <select id="cell-colour" value={v.overlay} onChange={(e) => setView({ overlay: e.target.value as HeadFigure | 'none' })}>
          <option value="none">None</option>
          {HEAD_FIGURES.map((f) => (
            <option key={f.key} value={f.key} title={f.label}>
              {f.menu}
            </option>
          ))}
        </select>
      </Row>
      <Row label="Search" htmlFor="search-tokens">
        <input
          id="search-tokens"
          type="search"
          aria-label="Search tokens"
          value={v.search}
          placeholder={images ? "an image's name, e.g. cat" : 'a token, e.g. the'}
          onChange={(e) => setView({ search: e.target.value })}
        />
      </Row>
      {results !== null && (
        <p className="line muted search-count">
          <span data-testid="search-results" role="status">
            {results} results
          </span>{' '}
          (queries and keys)
        </p>
      )}
      <Row label="Dot size" htmlFor="dot-size">
        <input id="dot-size" type="range" min={1} max={8} step={0.5} value={v.dotSize} onChange={(e) => setView({ dotSize: Number(e.target.value) })} />
        <label className="inline">
          <input type="checkbox" checked={v.sizeByNorm} onChange={(e) => setView({ sizeByNorm: e.target.checked })} /> by norm
        </label>
      </Row>
      {images && (
        <Row label="Patches">
          <label className="inline" title="In a head, draw each patch point as its piece of the image (framed in the query or key colour)">
            <input type="checkbox" checked={v.thumbnails} onChange={(e) => setView({ thumbnails: e.target.checked })} /> as thumbnails
          </label>
        </Row>
      )}
    </section>
  );
}
