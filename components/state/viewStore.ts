// How the shown result is looked at — projection, vectors, colouring, the head flown into,
// the selected point, panels — in one small store outside React (zustand). Components
// subscribe to the slices they show; the canvas and the URL read it without re-rendering.
import { createStore } from 'zustand/vanilla';
import { useStore } from 'zustand';
import type { NormalizationMode } from '@/lib/analysis/normalize';
import type { ProjectionMethod } from '@/lib/projection/project';
import type { ColourMode, PaletteName } from '@/lib/views/colour';
import type { HeadFigure } from '@/lib/views/headFigures';
import { DEFAULT_LINK_K, DEFAULT_LINK_THRESHOLD, type LinkWeight } from '@/lib/views/links';
import type { CompareMode, ViewState as LinkState } from '@/lib/views/urlState';

export interface Cell {
  layer: number;
  head: number;
}

export interface ViewState {
  /** The matrix's size, from the shown result (null before any). */
  shape: { layers: number; heads: number; tokens: number } | null;
  mode: NormalizationMode;
  method: ProjectionMethod;
  dims: 2 | 3;
  compare: CompareMode;
  focus: Cell | null;
  /** A point of the focused head (0…2N−1: queries then keys), or null. */
  selected: number | null;
  /** The head under the pointer in the matrix. */
  hovered: Cell | null;
  colourMode: ColourMode;
  palette: PaletteName;
  overlay: HeadFigure | 'none';
  dotSize: number;
  sizeByNorm: boolean;
  /** An image run's head view: patch points drawn as their image patch. */
  thumbnails: boolean;
  search: string;
  linkK: number;
  threshold: number;
  /** What links and the sentence view weigh: attention, or the norm of what it moves. */
  linkWeight: LinkWeight;
  /** Bumped to send the camera back to the view's default framing. */
  resetToken: number;
  /** Camera pose a shared link asked for, applied to the first view. */
  initialCamera: number[] | null;
  /** hud: the frame-time line over the canvas. */
  panels: { left: boolean; right: boolean; table: boolean; tablePinned: boolean; help: boolean; hud: boolean };
}

const clamp = (v: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, v));

export const initialView = (): ViewState => ({
  shape: null,
  mode: 'optimized',
  method: 'pca',
  dims: 3,
  compare: 'off',
  focus: null,
  selected: null,
  hovered: null,
  colourMode: 'kind',
  palette: 'reference',
  overlay: 'none',
  dotSize: 2,
  sizeByNorm: false,
  thumbnails: true,
  search: '',
  linkK: DEFAULT_LINK_K,
  threshold: DEFAULT_LINK_THRESHOLD,
  linkWeight: 'attention',
  resetToken: 0,
  initialCamera: null,
  panels: { left: true, right: true, table: false, tablePinned: false, help: false, hud: false },
});

export const viewStore = createStore<ViewState>(initialView);

export const useView = <T>(select: (s: ViewState) => T): T => useStore(viewStore, select);

export const setView = (patch: Partial<ViewState>) => viewStore.setState(patch);
export const setPanels = (patch: Partial<ViewState['panels']>) => viewStore.setState((s) => ({ panels: { ...s.panels, ...patch } }));

/** Flies into a head (or back to the matrix with null). */
export function flyTo(cell: Cell | null): void {
  const { shape } = viewStore.getState();
  if (cell && shape && (cell.layer < 0 || cell.layer >= shape.layers || cell.head < 0 || cell.head >= shape.heads)) return;
  viewStore.setState({ focus: cell, hovered: null });
}

/** Steps to the adjacent head (layer ±1, head ±1), keeping the selection. */
export function step(dLayer: number, dHead: number): void {
  const { focus, shape } = viewStore.getState();
  if (!focus || !shape) return;
  viewStore.setState({ focus: { layer: clamp(focus.layer + dLayer, 0, shape.layers - 1), head: clamp(focus.head + dHead, 0, shape.heads - 1) } });
}

export const resetCamera = () => viewStore.setState((s) => ({ resetToken: s.resetToken + 1 }));

/** A new result's matrix: the view settings stay, what belonged to the old corpus goes. */
export function viewNewResult(shape: ViewState['shape'], link: LinkState | null): void {
  const s = viewStore.getState();
  const fits = (c: Cell | null | undefined) => (c && shape && c.layer < shape.layers && c.head < shape.heads ? c : null);
  const points = shape ? 2 * shape.tokens : 0;
  if (!link) {
    viewStore.setState({ shape, focus: fits(s.focus), selected: null, hovered: null, initialCamera: null });
    return;
  }
  viewStore.setState({
    shape,
    focus: fits(link.head),
    selected: link.point !== undefined && link.point < points ? link.point : null,
    hovered: null,
    mode: link.mode ?? s.mode,
    method: link.method ?? s.method,
    dims: link.dims ?? s.dims,
    colourMode: link.colour ?? s.colourMode,
    palette: link.palette ?? s.palette,
    overlay: link.overlay ?? s.overlay,
    compare: link.compare ?? s.compare,
    linkWeight: link.weigh ?? s.linkWeight,
    initialCamera: link.camera ?? null,
  });
}
