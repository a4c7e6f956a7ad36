'use client';
// After a run: the views of every head. Projections (PCA/UMAP, 2D/3D, normalization) stream
// in from the worker pool; the matrix shows all heads, a click or "Go to head" flies into
// one, and selecting a point there draws its sentence's attention links and the sentence
// view. Colour, size, search and link settings are ordinary labelled form controls.
import { useCallback, useEffect, useMemo, useState } from 'react';
import type { NormalizationMode } from '@/lib/analysis/normalize';
import type { RunResult } from '@/lib/protocol/model';
import type { ProjectionMethod } from '@/lib/projection/project';
import { seededRandom } from '@/lib/util/random';
import { COLOUR_MODES, type ColourMode, PALETTES, type PaletteName, colourValueText, legendFor, pointColours } from '@/lib/views/colour';
import { labelPriority, shuffledPoints } from '@/lib/views/labels';
import { DEFAULT_LINK_K, DEFAULT_LINK_THRESHOLD, sentenceBlock, topKLinks } from '@/lib/views/links';
import { pointNorms } from '@/lib/views/norms';
import { pointToken, searchTokens, tokenTable } from '@/lib/views/tokens';
import { ModeSelect } from '../ModeSelect';
import { MAX_LINK_K, QKScene, type Cell } from '../canvas/QKScene';
import { STATE } from '../canvas/pointMaterial';
import { METHODS, useProjections } from '../projection/useProjections';
import { Legend } from './Legend';
import { SentenceView } from './SentenceView';

const PALETTE_LABELS: Record<PaletteName, string> = { reference: 'Reference (green / pink)', colourblind: 'Colour-blind safe (blue / orange)' };
/** Longest sentence text shown in a tooltip line. */
const TOOLTIP_SENTENCE_CHARS = 90;

const clamp = (v: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, v));
const truncate = (s: string, n: number) => (s.length > n ? `${s.slice(0, n - 1)}…` : s);

export function ViewsPanel({ result }: { result: RunResult }) {
  const { data, analysis } = result;
  const N = data.tokenCount;
  const [mode, setMode] = useState<NormalizationMode>('optimized');
  const [method, setMethod] = useState<ProjectionMethod>('pca');
  const [dims, setDims] = useState<2 | 3>(3);
  const projections = useProjections(result, mode, dims);
  const { status, version, layoutOf, prioritize } = projections;
  const [focus, setFocus] = useState<Cell | null>(null);
  const [selected, setSelected] = useState<number | null>(null);
  const [colourMode, setColourMode] = useState<ColourMode>('kind');
  const [palette, setPalette] = useState<PaletteName>('reference');
  const [dotSize, setDotSize] = useState(2);
  const [sizeByNorm, setSizeByNorm] = useState(false);
  const [search, setSearch] = useState('');
  const [linkK, setLinkK] = useState(DEFAULT_LINK_K);
  const [threshold, setThreshold] = useState(DEFAULT_LINK_THRESHOLD);
  const [resetToken, setResetToken] = useState(0);
  const [target, setTarget] = useState({ layer: '0', head: '0' });

  const shape = useMemo(() => ({ layers: data.layers, heads: data.heads, points: 2 * N }), [data, N]);
  const table = useMemo(() => tokenTable(data), [data]);
  const colours = useMemo(() => pointColours(table, colourMode, palette), [table, colourMode, palette]);
  const matches = useMemo(() => searchTokens(table, search), [table, search]);
  const needNorms = colourMode === 'norm' || sizeByNorm;
  const norms = useMemo(() => (needNorms ? pointNorms(data, analysis.params[mode]) : null), [needNorms, data, analysis, mode]);
  const sel = selected === null ? null : pointToken(selected, N);
  const sentence = sel ? table.sentence[sel.row] : null;

  const pointState = useMemo(() => {
    const out = new Uint8Array(2 * N * 4);
    const matched = new Uint8Array(N);
    for (const r of matches) matched[r] = 1;
    const dimOthers = sentence !== null || search.trim() !== '';
    for (let p = 0; p < 2 * N; p++) {
      const row = p < N ? p : p - N;
      out.set(colours.subarray(p * 3, p * 3 + 3), p * 4);
      let state: number = dimOthers ? STATE.faded : STATE.normal;
      if (sentence !== null && table.sentence[row] === sentence) state = STATE.highlighted;
      if (matched[row] || p === selected) state = STATE.match;
      out[p * 4 + 3] = state;
    }
    return out;
  }, [N, colours, matches, sentence, selected, search, table]);

  const shuffled = useMemo(() => shuffledPoints(2 * N, seededRandom(1)), [N]);
  const labelOrder = useMemo(() => {
    const first: number[] = selected === null ? [] : [selected];
    if (sentence !== null) {
      for (let r = data.sentenceStarts[sentence]; r < data.sentenceStarts[sentence + 1]; r++) first.push(r, N + r);
    }
    for (const r of matches) first.push(r, N + r);
    // While a sentence or a search is highlighted, only highlighted points are labelled.
    const focused = sentence !== null || search.trim() !== '';
    return focused ? Int32Array.from(new Set(first)) : labelPriority(2 * N, shuffled, first);
  }, [selected, sentence, matches, search, shuffled, data, N]);

  const links = useMemo(
    () => (focus && sentence !== null ? topKLinks(data, focus.layer, focus.head, sentence, linkK, threshold) : null),
    [focus, sentence, data, linkK, threshold],
  );

  const layout = useCallback((l: number, h: number) => layoutOf(method, l, h), [layoutOf, method]);
  const describe = useCallback(
    (point: number) => {
      const { row, kind } = pointToken(point, N);
      const s = table.sentence[row];
      const cell = focus ? focus.layer * data.heads + focus.head : 0;
      return [
        `${table.text[row]} · ${kind}`,
        `Sentence ${s + 1}: ${truncate(data.sentences[s].text, TOOLTIP_SENTENCE_CHARS)}`,
        `Position ${table.position[row] + 1} of ${table.sentenceLength[row]}`,
        colourValueText(table, colourMode, row, kind, norms ? norms.raw[cell * 2 * N + point] : null),
      ];
    },
    [N, table, data, focus, colourMode, norms],
  );
  const labelText = useCallback((point: number) => table.text[point < N ? point : point - N], [table, N]);

  const flyTo = useCallback(
    (cell: Cell | null) => {
      setFocus(cell);
      if (cell) {
        setTarget({ layer: String(cell.layer), head: String(cell.head) });
        prioritize(cell.layer, cell.head);
      }
    },
    [prioritize],
  );
  const step = useCallback(
    (dl: number, dh: number) =>
      setFocus((f) => {
        if (!f) return f;
        const next = { layer: clamp(f.layer + dl, 0, data.layers - 1), head: clamp(f.head + dh, 0, data.heads - 1) };
        prioritize(next.layer, next.head);
        setTarget({ layer: String(next.layer), head: String(next.head) });
        return next;
      }),
    [data.layers, data.heads, prioritize],
  );
  // Switching method or dimensions keeps the head and selection; a pending layout jumps the queue.
  useEffect(() => {
    if (focus) prioritize(focus.layer, focus.head);
  }, [focus, method, mode, dims, prioritize]);

  const targetLayer = Number(target.layer);
  const targetHead = Number(target.head);
  const targetValid = Number.isInteger(targetLayer) && Number.isInteger(targetHead) && target.layer !== '' && target.head !== '' && targetLayer >= 0 && targetLayer < data.layers && targetHead >= 0 && targetHead < data.heads;
  const total = data.layers * data.heads;
  const seconds = (ms: number | null) => (ms === null ? '…' : `${(ms / 1000).toFixed(1)} s`);
  const current = status.current;
  const focusLayout = focus ? layout(focus.layer, focus.head) : null;
  const legend = useMemo(() => legendFor(table, colourMode, palette), [table, colourMode, palette]);
  const ramps = useMemo(() => ({ query: PALETTES[palette].queryRamp, key: PALETTES[palette].keyRamp }), [palette]);
  const special = useCallback((p: number) => (sentence === null ? false : table.special[data.sentenceStarts[sentence] + p] === 1), [sentence, table, data]);
  const block = useMemo(() => (focus && sentence !== null ? sentenceBlock(data, focus.layer, focus.head, sentence) : null), [focus, sentence, data]);

  return (
    <section className="card" aria-label="Projections">
      <h2>Projections and views</h2>
      <div className="controls">
        <fieldset className="choices">
          <legend className="sr-only">Projection method</legend>
          {METHODS.map((m) => (
            <label key={m}>
              <input type="radio" name="projection-method" value={m} checked={method === m} onChange={() => setMethod(m)} />
              {m.toUpperCase()}
            </label>
          ))}
        </fieldset>
        <label>
          Dimensions{' '}
          <select value={dims} onChange={(e) => setDims(Number(e.target.value) as 2 | 3)}>
            <option value={3}>3D</option>
            <option value={2}>2D</option>
          </select>
        </label>
        <ModeSelect label="Vectors" value={mode} onChange={setMode} />
        <button type="button" className="secondary small" disabled={!projections.pending} onClick={projections.stop}>
          Stop projecting
        </button>
      </div>
      <p className="status" data-testid="projection-status">
        PCA {status.done.pca}/{total} heads ({seconds(status.firstMatrixMs.pca)}) · UMAP {status.done.umap}/{total} heads ({seconds(status.firstMatrixMs.umap)})
        {current && ` · L${current.layer} H${current.head}: epoch ${current.epoch}/${current.epochs}`}
        {status.cached > 0 && ` · ${status.cached} from cache`} · {projections.workers} worker(s)
      </p>
      {status.errors.length > 0 && (
        <p className="error" role="alert">
          {status.errors.join('; ')}
        </p>
      )}
      <div className="controls view-controls">
        <label>
          Colour by{' '}
          <select value={colourMode} onChange={(e) => setColourMode(e.target.value as ColourMode)}>
            {COLOUR_MODES.map(({ mode: m, label }) => (
              <option key={m} value={m}>
                {label}
              </option>
            ))}
          </select>
        </label>
        <label>
          Palette{' '}
          <select value={palette} onChange={(e) => setPalette(e.target.value as PaletteName)}>
            {(Object.keys(PALETTE_LABELS) as PaletteName[]).map((p) => (
              <option key={p} value={p}>
                {PALETTE_LABELS[p]}
              </option>
            ))}
          </select>
        </label>
        <label>
          Dot size <input type="range" min={1} max={8} step={0.5} value={dotSize} onChange={(e) => setDotSize(Number(e.target.value))} />
        </label>
        <label className="inline">
          <input type="checkbox" checked={sizeByNorm} onChange={(e) => setSizeByNorm(e.target.checked)} /> Size by norm
        </label>
        <label>
          Search tokens <input type="search" value={search} placeholder="e.g. the" onChange={(e) => setSearch(e.target.value)} />
        </label>
        {search.trim() !== '' && (
          <span className="status" data-testid="search-results" role="status">
            {2 * matches.length} results
          </span>
        )}
      </div>
      <div className="controls nav-controls">
        <label>
          Layer <input type="number" className="narrow" min={0} max={data.layers - 1} value={target.layer} onChange={(e) => setTarget((t) => ({ ...t, layer: e.target.value }))} />
        </label>
        <label>
          Head <input type="number" className="narrow" min={0} max={data.heads - 1} value={target.head} onChange={(e) => setTarget((t) => ({ ...t, head: e.target.value }))} />
        </label>
        <button type="button" className="secondary small" disabled={!targetValid} onClick={() => flyTo({ layer: targetLayer, head: targetHead })}>
          Go to head
        </button>
        {focus ? (
          <>
            <strong className="head-title" data-testid="head-title">
              Head L{focus.layer} H{focus.head}
            </strong>
            <button type="button" className="secondary small" disabled={focus.layer === 0} onClick={() => step(-1, 0)} title="Previous layer (↑)">
              ↑ Previous layer
            </button>
            <button type="button" className="secondary small" disabled={focus.layer === data.layers - 1} onClick={() => step(1, 0)} title="Next layer (↓)">
              ↓ Next layer
            </button>
            <button type="button" className="secondary small" disabled={focus.head === 0} onClick={() => step(0, -1)} title="Previous head (←)">
              ← Previous head
            </button>
            <button type="button" className="secondary small" disabled={focus.head === data.heads - 1} onClick={() => step(0, 1)} title="Next head (→)">
              Next head →
            </button>
            <button type="button" className="secondary small" onClick={() => flyTo(null)}>
              Back to matrix
            </button>
          </>
        ) : (
          <span className="hint">Click a head in the matrix, or choose one here, to fly into it.</span>
        )}
        <button type="button" className="secondary small" onClick={() => setResetToken((t) => t + 1)}>
          Reset view
        </button>
      </div>
      {focus && !focusLayout && (
        <p className="status" role="status">
          The {method.toUpperCase()} layout of L{focus.layer} H{focus.head} is being computed (moved to the front of the queue).
        </p>
      )}
      <div className="viewer">
        <QKScene
          shape={shape}
          dims={dims}
          layout={layout}
          version={version * 2 + METHODS.indexOf(method)}
          focus={focus}
          onFocus={flyTo}
          pointState={pointState}
          norms={norms?.scaled ?? null}
          useNorm={colourMode === 'norm'}
          ramps={ramps}
          pointSize={dotSize}
          sizeByNorm={sizeByNorm}
          links={links}
          onSelect={setSelected}
          describe={describe}
          labelText={labelText}
          labelOrder={labelOrder}
          resetToken={resetToken}
          onStep={step}
        />
        <aside className="side-panel">
          <Legend legend={legend} />
          <p className="hint">
            {focus
              ? 'Drag to orbit, scroll to zoom, right-drag to pan; W/A/S/D/Q/E fly; arrows step to the adjacent head; Esc returns to the matrix.'
              : 'Drag to orbit, scroll to zoom; hover a head to name it.'}
          </p>
          {focus && (
            <div className="controls link-controls">
              <label>
                Links per query (k) <input type="number" className="narrow" min={1} max={MAX_LINK_K} value={linkK} onChange={(e) => setLinkK(clamp(Math.round(Number(e.target.value)) || 1, 1, MAX_LINK_K))} />
              </label>
              <label>
                Link threshold <input type="number" className="narrow" min={0} max={1} step={0.01} value={threshold} onChange={(e) => setThreshold(clamp(Number(e.target.value) || 0, 0, 1))} />
              </label>
            </div>
          )}
          {sel && sentence !== null ? (
            <div className="selection" data-testid="selection">
              <p>
                Selected <strong>{table.text[sel.row]}</strong> ({sel.kind}), sentence {sentence + 1}, position {table.position[sel.row] + 1} of {table.sentenceLength[sel.row]}
                {links && ` · ${links.weight.length} links`}{' '}
                <button type="button" className="link-button" onClick={() => setSelected(null)}>
                  Clear selection
                </button>
              </p>
              {block && (
                <SentenceView
                  tokens={data.sentences[sentence].tokens}
                  special={special}
                  block={block}
                  selected={{ position: table.position[sel.row], kind: sel.kind }}
                  title={data.sentences[sentence].text}
                />
              )}
            </div>
          ) : (
            focus && <p className="hint">Click a point to highlight its sentence and draw its attention links.</p>
          )}
        </aside>
      </div>
    </section>
  );
}
