'use client';
// The head map: every head of the model one point, placed by how alike the heads are (their
// attention, or their query/key geometry), in 2D or 3D (drag to turn), coloured by layer or by
// a head figure. Hovering names the head and shows its thumbnail; clicking flies to it in the
// matrix. "Heads like this one" (HeadDetails) reads the same distances.
import { useEffect, useMemo, useRef, useState } from 'react';
import { SIMILARITY_DESCRIPTIONS, type HeadDistances, nearestHeads } from '@/lib/analysis/headSimilarity';
import { cssColour, type Rgb } from '@/lib/views/colour';
import { HEAD_FIGURES, VIRIDIS_CSS, figureScale, headFigure, viridis } from '@/lib/views/headFigures';
import type { RunResult } from '@/lib/run/types';
import { type HeadMapColour, ensureLayout, layoutKey, setHeadMap, useHeadMap } from '../app/headMap';
import type { LayoutStore, LayoutView } from '../projection/LayoutStore';
import { flyTo, useView } from '../state/viewStore';
import { Segmented } from '../ui/Segmented';

const POINT_RADIUS = 5;
const HIT_RADIUS = 11;

/** A head's query/key cloud, small: the first two coordinates of its layout in `view`. */
export function HeadThumbnail({
  layouts,
  view,
  layer,
  head,
  size = 84,
}: {
  layouts: LayoutStore;
  view: LayoutView;
  layer: number;
  head: number;
  size?: number;
}) {
  const canvas = useRef<HTMLCanvasElement>(null);
  // The head's overview: every point of a small run, the sample order's first of a large one.
  const layout = layouts.overview(view, layer, head);
  const coords = layout?.coords ?? null;
  const order = layout?.sampled ? layouts.sampling!.order : null;
  useEffect(() => {
    const c = canvas.current;
    if (!c) return;
    const g = c.getContext('2d')!;
    g.fillStyle = '#11141a';
    g.fillRect(0, 0, size, size);
    if (!coords) return;
    const dims = view.dims;
    const n = coords.length / dims;
    const step = Math.max(1, Math.floor(n / 1500));
    const isQuery = (i: number) => (order ? order[i] < order.length / 2 : i < n / 2);
    for (let i = 0; i < n; i += step) {
      g.fillStyle = isQuery(i) ? '#5FB96C' : '#E3378F';
      g.fillRect(size / 2 + coords[i * dims] * (size / 2 - 3) - 1, size / 2 - coords[i * dims + 1] * (size / 2 - 3) - 1, 2, 2);
    }
  }, [coords, order, size, view.dims]);
  return <canvas ref={canvas} width={size} height={size} className="head-thumb" aria-label={`L${layer} H${head} query/key cloud`} />;
}

function colourOf(result: RunResult, colour: HeadMapColour, mode: Parameters<typeof headFigure>[2]): (cell: number) => Rgb {
  const { layers, heads } = result.data;
  if (colour === 'layer') return (cell) => viridis(layers > 1 ? Math.floor(cell / heads) / (layers - 1) : 0.5);
  const scale = figureScale(result.analysis, colour, mode);
  return (cell) => scale.colour(headFigure(result.analysis.heads[cell], colour, mode));
}

interface Projected {
  x: number;
  y: number;
  depth: number;
}

function project(coords: Float32Array, dims: 2 | 3, yaw: number, pitch: number, width: number, height: number): Projected[] {
  const n = coords.length / dims;
  const scale = Math.min(width, height) / 2 - 2 * POINT_RADIUS - 14;
  const [cy, sy, cp, sp] = [Math.cos(yaw), Math.sin(yaw), Math.cos(pitch), Math.sin(pitch)];
  return Array.from({ length: n }, (_, i) => {
    const x = coords[i * dims];
    const y = coords[i * dims + 1];
    const z = dims === 3 ? coords[i * dims + 2] : 0;
    // Turn about the vertical axis (yaw), then the horizontal one (pitch).
    const x1 = cy * x + sy * z;
    const z1 = -sy * x + cy * z;
    const y1 = cp * y - sp * z1;
    const z2 = sp * y + cp * z1;
    return { x: width / 2 + x1 * scale, y: height / 2 - y1 * scale, depth: z2 };
  });
}

export function HeadMap({ result, layouts, view }: { result: RunResult; layouts: LayoutStore; view: LayoutView }) {
  const { kind, method, dims, colour, busy, error } = useHeadMap((s) => s);
  const coords = useHeadMap((s) => s.layouts[layoutKey(s.kind, s.method, s.dims)] ?? null);
  const distances = useHeadMap((s) => s.distances[s.kind] ?? null);
  const mode = useView((s) => s.mode);
  const { layers, heads } = result.data;
  const box = useRef<HTMLDivElement>(null);
  const canvas = useRef<HTMLCanvasElement>(null);
  const [size, setSize] = useState({ width: 0, height: 0 });
  const [angles, setAngles] = useState({ yaw: 0.6, pitch: 0.35 });
  const [hover, setHover] = useState<{ cell: number; x: number; y: number } | null>(null);
  const drag = useRef<{ x: number; y: number; yaw: number; pitch: number; moved: boolean } | null>(null);

  useEffect(() => {
    void ensureLayout();
  }, [kind, method, dims]);
  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const observer = new ResizeObserver(() => setSize({ width: el.clientWidth, height: el.clientHeight }));
    observer.observe(el);
    return () => observer.disconnect();
  }, []);

  const colourFor = useMemo(() => colourOf(result, colour, mode), [result, colour, mode]);
  const points = useMemo(
    () => (coords && size.width ? project(coords, dims, dims === 3 ? angles.yaw : 0, dims === 3 ? angles.pitch : 0, size.width, size.height) : null),
    [coords, dims, angles, size],
  );

  useEffect(() => {
    const c = canvas.current;
    if (!c || !size.width) return;
    const ratio = window.devicePixelRatio || 1;
    c.width = Math.round(size.width * ratio);
    c.height = Math.round(size.height * ratio);
    const g = c.getContext('2d')!;
    g.setTransform(ratio, 0, 0, ratio, 0, 0);
    g.fillStyle = '#11141a';
    g.fillRect(0, 0, size.width, size.height);
    if (!points) return;
    const order = points.map((_, i) => i).sort((a, b) => points[a].depth - points[b].depth);
    for (const i of order) {
      const p = points[i];
      const r = dims === 3 ? POINT_RADIUS * (1 + 0.25 * p.depth) : POINT_RADIUS;
      g.beginPath();
      g.arc(p.x, p.y, Math.max(2, r), 0, 2 * Math.PI);
      g.fillStyle = cssColour(colourFor(i));
      g.fill();
      // An outline in the background colour keeps touching points apart.
      g.lineWidth = hover?.cell === i ? 2 : 1.5;
      g.strokeStyle = hover?.cell === i ? '#ffffff' : '#11141a';
      g.stroke();
    }
    c.dataset.points = String(points.length);
  }, [points, size, colourFor, dims, hover]);

  const pick = (e: React.PointerEvent): number | null => {
    if (!points) return null;
    const r = canvas.current!.getBoundingClientRect();
    const x = e.clientX - r.left;
    const y = e.clientY - r.top;
    let best: number | null = null;
    let bestD = HIT_RADIUS;
    points.forEach((p, i) => {
      const d = Math.hypot(p.x - x, p.y - y);
      if (d <= bestD || (best !== null && d === bestD && p.depth > points[best].depth)) {
        bestD = d;
        best = i;
      }
    });
    return best;
  };

  const hovered = hover && distances ? nearestHeads(distances, hover.cell, 3) : [];
  const figure = colour === 'layer' ? null : HEAD_FIGURES.find((f) => f.key === colour)!;
  return (
    <div className="head-map" data-testid="head-map">
      <div className="head-map-controls">
        <Segmented
          label="Similarity"
          name="head-map-kind"
          value={kind}
          options={[
            { value: 'attention', label: 'Attention' },
            { value: 'geometry', label: 'Q/K geometry' },
          ]}
          onChange={(v) => setHeadMap({ kind: v })}
        />
        <Segmented
          label="Head map layout"
          name="head-map-method"
          value={method}
          options={[
            { value: 'pca', label: 'PCA', title: 'Classical MDS: the PCA of the double-centred squared distances' },
            { value: 'umap', label: 'UMAP' },
          ]}
          onChange={(v) => setHeadMap({ method: v })}
        />
        <Segmented
          label="Head map dimensions"
          name="head-map-dims"
          value={dims}
          options={[
            { value: 2, label: '2D' },
            { value: 3, label: '3D' },
          ]}
          onChange={(v) => setHeadMap({ dims: v })}
        />
        <label className="head-map-colour">
          Colour{' '}
          <select aria-label="Head map colour" value={colour} onChange={(e) => setHeadMap({ colour: e.target.value as HeadMapColour })}>
            <option value="layer">by layer</option>
            {HEAD_FIGURES.map((f) => (
              <option key={f.key} value={f.key}>
                {f.menu}
              </option>
            ))}
          </select>
        </label>
        <button type="button" className="tool" onClick={() => setHeadMap({ open: false })}>
          Back to the matrix
        </button>
      </div>
      <p className="head-map-about small" data-testid="head-map-about">
        {SIMILARITY_DESCRIPTIONS[kind]} {distances && sampleNote(distances)} {layers * heads} heads; {dims === 3 ? 'drag to turn; ' : ''}click one to fly to it.
      </p>
      <div className="head-map-canvas" ref={box}>
        <canvas
          ref={canvas}
          style={{ width: size.width, height: size.height }}
          onPointerDown={(e) => (drag.current = { x: e.clientX, y: e.clientY, ...angles, moved: false })}
          onPointerMove={(e) => {
            const d = drag.current;
            if (d && dims === 3 && e.buttons) {
              if (Math.hypot(e.clientX - d.x, e.clientY - d.y) > 3) d.moved = true;
              setAngles({ yaw: d.yaw + (e.clientX - d.x) / 150, pitch: Math.max(-1.5, Math.min(1.5, d.pitch + (e.clientY - d.y) / 150)) });
              return;
            }
            const cell = pick(e);
            const r = canvas.current!.getBoundingClientRect();
            setHover(cell === null ? null : { cell, x: e.clientX - r.left, y: e.clientY - r.top });
          }}
          onPointerLeave={() => setHover(null)}
          onPointerUp={(e) => {
            const moved = drag.current?.moved;
            drag.current = null;
            if (moved) return;
            const cell = pick(e);
            if (cell === null) return;
            setHeadMap({ open: false });
            flyTo({ layer: Math.floor(cell / heads), head: cell % heads });
          }}
        />
        <HeadMapLegend result={result} colour={colour} mode={mode} />
        {(busy || error || !coords) && (
          <p className={error ? 'error head-map-status' : 'notice head-map-status'} role="status">
            {error ?? busy ?? 'Placing the heads…'}
          </p>
        )}
        {hover && (
          <div
            className="tooltip head-map-tooltip"
            style={{ transform: `translate(${Math.min(hover.x + 14, size.width - 200)}px, ${Math.max(0, hover.y - 120)}px)` }}
            data-testid="head-map-tooltip"
          >
            <div className="tooltip-title">
              L{Math.floor(hover.cell / heads)} H{hover.cell % heads}
            </div>
            <HeadThumbnail layouts={layouts} view={view} layer={Math.floor(hover.cell / heads)} head={hover.cell % heads} />
            {figure && (
              <div>
                {figure.short}: {headFigure(result.analysis.heads[hover.cell], figure.key, mode).toFixed(3)}
              </div>
            )}
            {hovered.length > 0 && (
              <div className="muted">
                nearest: {hovered.map((n) => `L${Math.floor(n.cell / heads)} H${n.cell % heads} (${n.distance.toFixed(2)})`).join(', ')}
              </div>
            )}
          </div>
        )}
      </div>
    </div>
  );
}

function HeadMapLegend({ result, colour, mode }: { result: RunResult; colour: HeadMapColour; mode: Parameters<typeof headFigure>[2] }) {
  const { layers } = result.data;
  if (colour === 'layer') {
    return (
      <div className="legend-box head-map-legend" data-testid="head-map-legend">
        {Array.from({ length: layers }, (_, l) => l)
          .filter((l) => layers <= 12 || l % Math.ceil(layers / 12) === 0 || l === layers - 1)
          .map((l) => (
            <span key={l} className="head-map-swatch">
              <span className="chip" style={{ background: cssColour(viridis(layers > 1 ? l / (layers - 1) : 0.5)) }} />L{l}
            </span>
          ))}
      </div>
    );
  }
  const scale = figureScale(result.analysis, colour, mode);
  const spec = HEAD_FIGURES.find((f) => f.key === colour)!;
  return (
    <div className="legend-box head-map-legend" data-testid="head-map-legend">
      {spec.short}: {scale.min.toFixed(2)} <span className="head-map-ramp" style={{ background: VIRIDIS_CSS }} /> {scale.max.toFixed(2)}
    </div>
  );
}

export function sampleNote(d: HeadDistances): string {
  if (d.kind === 'attention')
    return d.sampled === d.total
      ? `Over all ${d.total.toLocaleString('en-US')} query rows.`
      : `Over ${d.sampled.toLocaleString('en-US')} of the ${d.total.toLocaleString('en-US')} query rows (every ${Math.round(d.total / d.sampled)}th).`;
  return d.sampled === d.total
    ? `Over all ${d.total.toLocaleString('en-US')} tokens.`
    : `Over ${d.sampled.toLocaleString('en-US')} of the ${d.total.toLocaleString('en-US')} tokens, spread over the corpus.`;
}
