'use client';
// After a run: the views of every head. Projections (PCA/UMAP, 2D/3D, normalization) stream
// in from the worker pool; the matrix shows all heads, a click or "Go to head" flies into
// one, and selecting a point there draws its sentence's attention links and the sentence
// view. Compare mode shows two linked panes (raw | normalized or PCA | UMAP) with one
// selection; the diagnostics, the per-head overlay and table, exports and shared links sit
// around them. Every control is an ordinary labelled form element.
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import type { NormalizationMode } from '@/lib/analysis/normalize';
import { coordsNpy } from '@/lib/io/coords';
import type { RunResult } from '@/lib/protocol/model';
import { corpusHash } from '@/lib/projection/cacheKey';
import type { ProjectionMethod } from '@/lib/projection/project';
import { seededRandom } from '@/lib/util/random';
import { type ColourMode, PALETTES, type PaletteName, colourValueText, legendFor, pointColours } from '@/lib/views/colour';
import { HEAD_FIGURES, type HeadFigure, VIRIDIS_CSS, headFiguresCsv, overlayColours } from '@/lib/views/headFigures';
import { labelPriority, shuffledPoints } from '@/lib/views/labels';
import { DEFAULT_LINK_K, DEFAULT_LINK_THRESHOLD, sentenceBlock, topKLinks } from '@/lib/views/links';
import { pointNorms } from '@/lib/views/norms';
import { pointToken, searchTokens, tokenTable } from '@/lib/views/tokens';
import { type CompareMode, readViewState, sameCorpus, writeViewState } from '@/lib/views/urlState';
import { MODE_LABELS, ModeSelect } from '../ModeSelect';
import { MAX_LINK_K, QKScene, type Cell, type QKSceneProps } from '../canvas/QKScene';
import { CameraLink } from '../canvas/cameraLink';
import { STATE } from '../canvas/pointMaterial';
import { METHODS, useProjections } from '../projection/useProjections';
import { Diagnostics } from './Diagnostics';
import { ExportBar } from './ExportBar';
import { HeadFiguresTable } from './HeadFiguresTable';
import { HeadNavigator } from './HeadNavigator';
import { Legend } from './Legend';
import { SentenceView } from './SentenceView';
import { ViewControls } from './ViewControls';

const COMPARE_LABELS: Record<CompareMode, string> = { off: 'Off', normalization: 'Raw | normalized', projection: 'PCA | UMAP' };
/** Longest sentence text shown in a tooltip line. */
const TOOLTIP_SENTENCE_CHARS = 90;

const clamp = (v: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, v));
const truncate = (s: string, n: number) => (s.length > n ? `${s.slice(0, n - 1)}…` : s);

export function ViewsPanel({ result }: { result: RunResult }) {
  const { data, analysis } = result;
  const N = data.tokenCount;
  // A shared link's view, read once when the run's views open.
  const [linked] = useState(() => (typeof window === 'undefined' ? {} : readViewState(new URLSearchParams(window.location.search))));
  const [mode, setMode] = useState<NormalizationMode>(linked.mode ?? 'optimized');
  const [method, setMethod] = useState<ProjectionMethod>(linked.method ?? 'pca');
  const [dims, setDims] = useState<2 | 3>(linked.dims ?? 3);
  const [compare, setCompare] = useState<CompareMode>(linked.compare ?? 'off');
  const [focus, setFocus] = useState<Cell | null>(linked.head && linked.head.layer < data.layers && linked.head.head < data.heads ? linked.head : null);
  const [selected, setSelected] = useState<number | null>(linked.point !== undefined && linked.point < 2 * N ? linked.point : null);
  const [colourMode, setColourMode] = useState<ColourMode>(linked.colour ?? 'kind');
  const [palette, setPalette] = useState<PaletteName>(linked.palette ?? 'reference');
  const [overlay, setOverlay] = useState<HeadFigure | 'none'>(linked.overlay ?? 'none');
  const [dotSize, setDotSize] = useState(2);
  const [sizeByNorm, setSizeByNorm] = useState(false);
  const [search, setSearch] = useState('');
  const [linkK, setLinkK] = useState(DEFAULT_LINK_K);
  const [threshold, setThreshold] = useState(DEFAULT_LINK_THRESHOLD);
  const [resetToken, setResetToken] = useState(0);
  const [hash, setHash] = useState<string | null>(null);
  const cameraLink = useMemo(() => new CameraLink(), []);
  const viewsRef = useRef<HTMLDivElement>(null);

  const compareRaw = compare === 'normalization' && mode !== 'raw';
  const projections = useProjections(result, mode, dims);
  const rawProjections = useProjections(result, 'raw', dims, compareRaw);
  const { status, layoutOf, prioritize } = projections;

  useEffect(() => {
    let cancelled = false;
    void corpusHash(data.sentences.map((s) => s.text)).then((h) => !cancelled && setHash(h));
    return () => {
      cancelled = true;
    };
  }, [data]);

  const shape = useMemo(() => ({ layers: data.layers, heads: data.heads, points: 2 * N }), [data, N]);
  const table = useMemo(() => tokenTable(data), [data]);
  const colours = useMemo(() => pointColours(table, colourMode, palette), [table, colourMode, palette]);
  const matches = useMemo(() => searchTokens(table, search), [table, search]);
  const needNorms = colourMode === 'norm' || sizeByNorm;
  const norms = useMemo(() => (needNorms ? pointNorms(data, analysis.params[mode]) : null), [needNorms, data, analysis, mode]);
  const rawNorms = useMemo(() => (needNorms && compareRaw ? pointNorms(data, analysis.params.raw) : null), [needNorms, compareRaw, data, analysis]);
  const sel = selected === null ? null : pointToken(selected, N);
  const sentence = sel ? table.sentence[sel.row] : null;
  const searching = search.trim() !== '';

  const pointState = useMemo(() => {
    const out = new Uint8Array(2 * N * 4);
    const matched = new Uint8Array(N);
    for (const r of matches) matched[r] = 1;
    const dimOthers = sentence !== null || searching;
    for (let p = 0; p < 2 * N; p++) {
      const row = p < N ? p : p - N;
      out.set(colours.subarray(p * 3, p * 3 + 3), p * 4);
      let state: number = dimOthers ? STATE.faded : STATE.normal;
      if (sentence !== null && table.sentence[row] === sentence) state = STATE.highlighted;
      if (matched[row] || p === selected) state = STATE.match;
      out[p * 4 + 3] = state;
    }
    return out;
  }, [N, colours, matches, sentence, selected, searching, table]);

  const shuffled = useMemo(() => shuffledPoints(2 * N, seededRandom(1)), [N]);
  const labelOrder = useMemo(() => {
    const first: number[] = selected === null ? [] : [selected];
    if (sentence !== null) {
      for (let r = data.sentenceStarts[sentence]; r < data.sentenceStarts[sentence + 1]; r++) first.push(r, N + r);
    }
    for (const r of matches) first.push(r, N + r);
    // While a sentence or a search is highlighted, only highlighted points are labelled.
    return sentence !== null || searching ? Int32Array.from(new Set(first)) : labelPriority(2 * N, shuffled, first);
  }, [selected, sentence, matches, searching, shuffled, data, N]);

  const links = useMemo(
    () => (focus && sentence !== null ? topKLinks(data, focus.layer, focus.head, sentence, linkK, threshold) : null),
    [focus, sentence, data, linkK, threshold],
  );
  const overlayData = useMemo(() => (overlay === 'none' ? null : overlayColours(analysis, overlay, mode)), [analysis, overlay, mode]);

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
      if (cell) prioritize(cell.layer, cell.head);
    },
    [prioritize],
  );
  const step = useCallback(
    (dl: number, dh: number) =>
      setFocus((f) => (f ? { layer: clamp(f.layer + dl, 0, data.layers - 1), head: clamp(f.head + dh, 0, data.heads - 1) } : f)),
    [data.layers, data.heads],
  );
  // The head in view (and its neighbour pane's) jumps the queue whenever what it needs changes.
  useEffect(() => {
    if (!focus) return;
    prioritize(focus.layer, focus.head);
    if (compareRaw) rawProjections.prioritize(focus.layer, focus.head);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [focus, method, mode, dims, compare, prioritize]);

  const total = data.layers * data.heads;
  const seconds = (ms: number | null) => (ms === null ? '…' : `${(ms / 1000).toFixed(1)} s`);
  const current = status.current;
  const legend = useMemo(() => legendFor(table, colourMode, palette), [table, colourMode, palette]);
  const ramps = useMemo(() => ({ query: PALETTES[palette].queryRamp, key: PALETTES[palette].keyRamp }), [palette]);
  const special = useCallback((p: number) => (sentence === null ? false : table.special[data.sentenceStarts[sentence] + p] === 1), [sentence, table, data]);
  const block = useMemo(() => (focus && sentence !== null ? sentenceBlock(data, focus.layer, focus.head, sentence) : null), [focus, sentence, data]);

  // The panes: one normally; two linked ones in compare mode.
  const pcaLayout = useCallback((l: number, h: number) => layoutOf('pca', l, h), [layoutOf]);
  const umapLayout = useCallback((l: number, h: number) => layoutOf('umap', l, h), [layoutOf]);
  const rawLayoutOf = rawProjections.layoutOf;
  const rawLayout = useCallback((l: number, h: number) => rawLayoutOf(method, l, h), [rawLayoutOf, method]);
  const mainLayout = method === 'pca' ? pcaLayout : umapLayout;
  const methodLabel = (m: ProjectionMethod) => m.toUpperCase();
  const panes: { key: string; caption?: string; layout: QKSceneProps['layout']; version: number; norms: typeof norms }[] =
    compare === 'projection'
      ? [
          { key: 'pca', caption: `PCA · ${MODE_LABELS[mode]}`, layout: pcaLayout, version: projections.version * 2, norms },
          { key: 'umap', caption: `UMAP · ${MODE_LABELS[mode]}`, layout: umapLayout, version: projections.version * 2 + 1, norms },
        ]
      : compare === 'normalization'
        ? [
            {
              key: 'raw',
              caption: `${methodLabel(method)} · ${MODE_LABELS.raw}`,
              layout: compareRaw ? rawLayout : mainLayout,
              version: (compareRaw ? rawProjections.version : projections.version) * 2 + METHODS.indexOf(method),
              norms: compareRaw ? rawNorms : norms,
            },
            { key: 'normalized', caption: `${methodLabel(method)} · ${MODE_LABELS[mode]}`, layout: mainLayout, version: projections.version * 2 + METHODS.indexOf(method), norms },
          ]
        : [{ key: 'main', layout: mainLayout, version: projections.version * 2 + METHODS.indexOf(method), norms }];
  const waiting = focus ? panes.filter((p) => !p.layout(focus.layer, focus.head)).map((p) => p.caption ?? methodLabel(method)) : [];

  const viewState = () => ({
    corpus: hash ?? undefined,
    head: focus ?? undefined,
    mode,
    method,
    dims,
    colour: colourMode,
    palette,
    overlay: overlay === 'none' ? undefined : overlay,
    compare,
    point: selected ?? undefined,
  });
  // The address bar follows the view (without the camera, which moves too often to write).
  useEffect(() => {
    const params = writeViewState(new URLSearchParams(window.location.search), viewState());
    window.history.replaceState(null, '', `${window.location.pathname}?${params}`);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [hash, focus, mode, method, dims, colourMode, palette, overlay, compare, selected]);
  const shareUrl = () => {
    const params = writeViewState(new URLSearchParams(window.location.search), { ...viewState(), camera: cameraLink.pose ?? undefined });
    return `${window.location.origin}${window.location.pathname}?${params}`;
  };
  const baseName = `qkviz-${focus ? `L${focus.layer}H${focus.head}-` : ''}${method}-${dims}d-${mode}`;
  const coordsReady = status.done[method] === total;

  return (
    <>
      <section className="card" aria-label="Projections">
        <h2>Projections and views</h2>
        {hash && !sameCorpus(linked.corpus, hash) && (
          <p className="warning" role="status" data-testid="link-corpus-notice">
            This link was made with another corpus (hash {linked.corpus}); its view settings were applied to this run. Paste the link’s corpus and Run
            again to see exactly what was shared.
          </p>
        )}
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
          <label>
            Compare{' '}
            <select value={compare} onChange={(e) => setCompare(e.target.value as CompareMode)}>
              {(Object.keys(COMPARE_LABELS) as CompareMode[]).map((c) => (
                <option key={c} value={c}>
                  {COMPARE_LABELS[c]}
                </option>
              ))}
            </select>
          </label>
          <button type="button" className="secondary small" disabled={!projections.pending} onClick={projections.stop}>
            Stop projecting
          </button>
        </div>
        <p className="status" data-testid="projection-status">
          PCA {status.done.pca}/{total} heads ({seconds(status.firstMatrixMs.pca)}) · UMAP {status.done.umap}/{total} heads ({seconds(status.firstMatrixMs.umap)})
          {current && ` · L${current.layer} H${current.head}: epoch ${current.epoch}/${current.epochs}`}
          {status.cached > 0 && ` · ${status.cached} from cache`} · {projections.workers} worker(s)
          {compareRaw && ` · raw vectors: PCA ${rawProjections.status.done.pca}/${total}, UMAP ${rawProjections.status.done.umap}/${total}`}
        </p>
        {compare === 'normalization' && mode === 'raw' && (
          <p className="hint" role="status">
            Choose paper or optimized vectors to compare them with raw.
          </p>
        )}
        {[...status.errors, ...rawProjections.status.errors].length > 0 && (
          <p className="error" role="alert">
            {[...status.errors, ...rawProjections.status.errors].join('; ')}
          </p>
        )}
        <ViewControls
          colourMode={colourMode}
          onColourMode={setColourMode}
          palette={palette}
          onPalette={setPalette}
          dotSize={dotSize}
          onDotSize={setDotSize}
          sizeByNorm={sizeByNorm}
          onSizeByNorm={setSizeByNorm}
          search={search}
          onSearch={setSearch}
          results={searching ? 2 * matches.length : null}
          overlay={overlay}
          onOverlay={setOverlay}
        />
        <HeadNavigator layers={data.layers} heads={data.heads} focus={focus} onFocus={flyTo} onStep={step} onReset={() => setResetToken((t) => t + 1)} />
        {waiting.length > 0 && focus && (
          <p className="status" role="status">
            The {waiting.join(' and ')} layout of L{focus.layer} H{focus.head} is being computed (moved to the front of the queue).
          </p>
        )}
        <div className="viewer">
          <div className={`panes panes-${panes.length}`} ref={viewsRef}>
            {panes.map((pane, i) => (
              <QKScene
                key={pane.key}
                testId={i === 0 ? 'matrix-view' : `matrix-view-${i + 1}`}
                caption={pane.caption}
                shape={shape}
                dims={dims}
                layout={pane.layout}
                version={pane.version}
                focus={focus}
                onFocus={flyTo}
                pointState={pointState}
                norms={pane.norms?.scaled ?? null}
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
                cellColours={overlayData?.colours ?? null}
                cameraLink={cameraLink}
                initialPose={linked.camera}
              />
            ))}
          </div>
          <aside className="side-panel">
            <Legend legend={legend} />
            {overlayData && overlay !== 'none' && !focus && (
              <div className="legend" aria-label="Cell colour legend">
                <div className="legend-title">Cells: {HEAD_FIGURES.find((f) => f.key === overlay)!.label}</div>
                <span className="ramp" style={{ background: VIRIDIS_CSS }} />
                <div className="ramp-ends flush">
                  <span>{overlayData.min.toFixed(3)}</span>
                  <span>{overlayData.max.toFixed(3)}</span>
                </div>
              </div>
            )}
            <p className="hint">
              {focus
                ? 'Drag to orbit, scroll to zoom, right-drag to pan; W/A/S/D/Q/E fly; arrows step to the adjacent head; Esc returns to the matrix.'
                : 'Drag to orbit, scroll to zoom; hover a head to name it.'}
            </p>
            {focus && (
              <div className="controls link-controls">
                <label>
                  Links per query (k){' '}
                  <input type="number" className="narrow" min={1} max={MAX_LINK_K} value={linkK} onChange={(e) => setLinkK(clamp(Math.round(Number(e.target.value)) || 1, 1, MAX_LINK_K))} />
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
        <ExportBar
          root={viewsRef}
          baseName={baseName}
          figuresCsv={() => headFiguresCsv(analysis)}
          coords={coordsReady ? () => coordsNpy(data.layers, data.heads, 2 * N, dims, mainLayout) : null}
          coordsPending={coordsReady ? null : `Waiting for all ${methodLabel(method)} layouts (${status.done[method]}/${total}).`}
          shareUrl={shareUrl}
        />
      </section>
      {focus && <Diagnostics result={result} layer={focus.layer} head={focus.head} mode={mode} />}
      <section className="card" aria-label="Heads at a glance">
        <h2>Heads at a glance · {MODE_LABELS[mode]} vectors</h2>
        <p className="hint">Click a column to sort; click a head to fly into it. “Cell colour” above paints the same figures onto the matrix.</p>
        <HeadFiguresTable analysis={analysis} mode={mode} onOpen={(layer, head) => flyTo({ layer, head })} />
      </section>
    </>
  );
}
