// The matrix/head renderer as a plain three.js object behind a small interface: layouts are
// synced from the layout store (a head's slots uploaded once per layout), everything else
// arrives through setProps, and both say whether a new frame is needed. Level of detail: the
// overview geometry draws the first slots of every cell — a representative sample, one
// contiguous range, pointBudget points in all — and a small detail geometry draws, on top,
// what must be seen in full: the focused head in the head view; zoomed-in cells and the points
// of a search or selection in the matrix. Links are one line geometry, the overlay one mesh:
// a frame is a few draw calls whatever the model's size. React (QKView) only mounts it.
import * as THREE from 'three';
import type { Rgb } from '@/lib/views/colour';
import type { Links } from '@/lib/views/links';
import type { LayoutStore, LayoutView } from '../projection/LayoutStore';
import type { Cell } from '../state/viewStore';
import {
  type MatrixShape,
  createDetailGeometry,
  createOverviewGeometry,
  overviewCount,
  overviewLayout,
  overviewVertex,
  writeDetailPoint,
  writeHeadLayout,
} from './geometry';
import { PointPicker } from './picking';
import { STATE, STATE_TEXTURE_WIDTH, pointMaterials, pointStateTexture, pointUniforms } from './pointMaterial';
import { UploadCounter, createLinkLines, createOverlay, writeLinks } from './sceneObjects';
import type { ThumbAtlas } from './thumbs';

export interface RendererProps {
  dims: 2 | 3;
  focus: Cell | null;
  /** RGBA per point (colour, highlight state), shared by all heads. */
  pointState: Uint8Array | null;
  /** Per-vertex norms scaled 0…1 within each head ([cell][point]), when colouring or sizing by norm. */
  norms: Float32Array | null;
  useNorm: boolean;
  ramps: { query: [Rgb, Rgb]; key: [Rgb, Rgb] };
  pointSize: number;
  sizeByNorm: boolean;
  links: Links | null;
  /** RGB per head (cell order) for the matrix overlay, or null for none. */
  cellColours: Uint8Array | null;
  /** Points the matrix overview draws in all (a sample of each cell); the head view draws its head in full. */
  pointBudget: number;
  /** Cells the overview draws in full (zoomed in on them). */
  fullCells: ReadonlySet<number>;
  /** An image run's pictures: the head view draws its patch points as thumbnails (null: dots). */
  thumbs: ThumbAtlas | null;
  /** A thumbnail's side in CSS pixels. */
  thumbSize: number;
}

const rgb = (c: THREE.Color, [r, g, b]: Rgb) => c.setRGB(r / 255, g / 255, b / 255);
/** Points of a cell zoomed in on in the matrix drawn at most (of its sample order): a few such cells stay a quick frame. */
const MAX_FULL_CELL_POINTS = 100_000;
/** Highlight states at or above this are always drawn (a search's matches, the selected sentence). */
const ALWAYS_DRAWN = STATE.highlighted;

export class QKRenderer {
  readonly object = new THREE.Group();
  readonly uploads = new UploadCounter();
  /** Points drawn by the last frame's geometries. */
  drawnPoints = 0;
  /** Head layouts written so far (the level of detail treats arrivals like motion). */
  layoutWrites = 0;
  /** Points of every cell drawn whatever the budget (a search's matches, the selected sentence), in all cells. */
  get alwaysDrawn(): number {
    return this.props.focus ? 0 : this.alwaysCount * this.shape.layers * this.shape.heads;
  }
  private overview: THREE.BufferGeometry;
  private overviewPoints: THREE.Points;
  private detail: THREE.BufferGeometry;
  private detailPoints: THREE.Points;
  private pickPoints: THREE.Points;
  private detailDirty = true;
  /** Points of every cell drawn in the detail (highlighted ones), as of its last rebuild. */
  private alwaysCount = 0;
  private texture: THREE.DataTexture;
  private uniforms: ReturnType<typeof pointUniforms>;
  private materials: ReturnType<typeof pointMaterials>;
  private linkLines: THREE.LineSegments;
  private overlay: THREE.Mesh;
  private picker = new PointPicker();
  /** The layout each cell was last written with (reference), for this view. */
  private uploaded = new Map<number, Float32Array>();
  /** The store and view synced last: full layouts for the detail are read (and asked) from it. */
  private store: LayoutStore | null = null;
  private view: LayoutView | null = null;
  /** Full layouts the detail was last built from, by cell (a new one arriving rebuilds it). */
  private detailFull = new Map<number, Float32Array | null>();
  /** Point → its slot in the sample order (for a large run's points drawn from overviews). */
  private rank: Int32Array | null = null;
  private syncedView = '';
  private syncedVersion = -1;
  private linkedCoords: Float32Array | null = null;
  private props: RendererProps = {
    dims: 3,
    focus: null,
    pointState: null,
    norms: null,
    useNorm: false,
    ramps: {
      query: [
        [0, 0, 0],
        [0, 0, 0],
      ],
      key: [
        [0, 0, 0],
        [0, 0, 0],
      ],
    },
    pointSize: 2,
    sizeByNorm: false,
    links: null,
    cellColours: null,
    pointBudget: Infinity,
    fullCells: new Set(),
    thumbs: null,
    thumbSize: 16,
  };

  /** `order`: the sample order of a head's points (lib/views/lod.ts), the same for every head. */
  constructor(
    readonly shape: MatrixShape,
    private order: Int32Array,
  ) {
    this.overview = createOverviewGeometry(shape, order);
    for (const name of ['position', 'pointIndex', 'ready', 'normValue']) this.uploads.watch(this.overview.getAttribute(name) as THREE.BufferAttribute);
    this.texture = pointStateTexture(shape.points);
    this.texture.onUpdate = () => this.uploads.count++;
    this.uniforms = pointUniforms(this.texture, shape.points / 2);
    this.materials = pointMaterials(this.uniforms);
    this.overviewPoints = new THREE.Points(this.overview, this.materials.view);
    this.overviewPoints.frustumCulled = false;
    this.detail = this.watchDetail(createDetailGeometry(shape.points));
    this.detailPoints = new THREE.Points(this.detail, this.materials.view);
    this.detailPoints.frustumCulled = false;
    this.pickPoints = new THREE.Points(this.detail, this.materials.pick);
    this.pickPoints.frustumCulled = false;
    this.linkLines = createLinkLines(this.uploads);
    this.overlay = createOverlay(shape);
    this.uploads.watch(this.overlay.geometry.getAttribute('tint') as THREE.BufferAttribute);
    this.overlay.visible = false;
    this.object.add(this.overlay, this.overviewPoints, this.detailPoints, this.linkLines);
    this.updateOverview();
  }

  /** The points the overview draws of each cell at the current budget. */
  get perCell(): number {
    const cells = this.shape.layers * this.shape.heads;
    return Math.max(1, Math.min(this.shape.overviewPoints, Math.floor(this.props.pointBudget / cells)));
  }

  /** Writes newly arrived layouts of `view`; true when what is drawn changed. */
  syncLayouts(store: LayoutStore, view: LayoutView): boolean {
    const key = `${view.mode}|${view.method}|${view.dims}`;
    if (key === this.syncedView && store.version(view) === this.syncedVersion) {
      return this.detailDirty ? this.rebuildDetail() : false;
    }
    if (key !== this.syncedView || view.dims !== this.props.dims) this.clearLayouts();
    this.syncedView = key;
    this.syncedVersion = store.version(view);
    this.store = store;
    this.view = view;
    const { focus, fullCells } = this.props;
    let changed = false;
    // A full layout the detail draws has arrived (or been dropped): rebuild it.
    for (const [cell, coords] of this.detailFull) {
      if (store.get(view, Math.floor(cell / this.shape.heads), cell % this.shape.heads) !== coords) this.detailDirty = true;
    }
    for (let l = 0; l < this.shape.layers; l++) {
      for (let h = 0; h < this.shape.heads; h++) {
        const layout = store.overview(view, l, h);
        const cell = l * this.shape.heads + h;
        if (!layout || this.uploaded.get(cell) === layout.coords) continue;
        this.uploaded.set(cell, layout.coords);
        this.layoutWrites++;
        writeHeadLayout(this.overview, this.shape, this.order, l, h, layout.coords, view.dims, layout.sampled);
        // In the head view another head's layout is uploaded with the next frame but needs none.
        if (!focus || (focus.layer === l && focus.head === h)) changed = true;
        // The detail draws this head too: it is the focused one, zoomed in on, or has always-drawn points.
        if (focus ? focus.layer === l && focus.head === h : fullCells.has(cell) || this.alwaysCount > 0) this.detailDirty = true;
      }
    }
    if (this.detailDirty) changed = this.rebuildDetail() || changed;
    return this.updateLinks() || changed;
  }

  /** A cell's full layout ([2N][dims]), if held (a large run's are asked for when the detail draws them). */
  coordsOf(cell: Cell): Float32Array | null {
    return this.fullOf(cell.layer * this.shape.heads + cell.head);
  }

  private fullOf(c: number): Float32Array | null {
    if (!this.store || !this.view) return null;
    return this.store.get(this.view, Math.floor(c / this.shape.heads), c % this.shape.heads);
  }

  setProps(patch: Partial<RendererProps>): boolean {
    const before = this.props;
    const p = (this.props = { ...before, ...patch });
    const changed = <K extends keyof RendererProps>(k: K) => k in patch && patch[k] !== before[k];
    let render = false;
    if (changed('dims')) {
      this.clearLayouts();
      render = true;
    }
    if (changed('pointState') && p.pointState) {
      const data = this.texture.image.data as Uint8Array;
      data.set(p.pointState.subarray(0, Math.min(p.pointState.length, STATE_TEXTURE_WIDTH * this.texture.image.height * 4)));
      this.texture.needsUpdate = true;
      render = true;
    }
    if (changed('norms') && p.norms) {
      // norms are [cell][point]; the overview holds [block][cell][slot].
      const attr = this.overview.getAttribute('normValue') as THREE.BufferAttribute;
      const out = attr.array as Float32Array;
      const P = this.shape.points;
      const cells = this.shape.layers * this.shape.heads;
      for (let c = 0; c < cells; c++) for (let v = 0; v < this.shape.overviewPoints; v++) out[overviewVertex(cells, c, v)] = p.norms[c * P + this.order[v]];
      attr.needsUpdate = true;
      render = true;
    }
    if (['pointSize', 'sizeByNorm', 'useNorm', 'norms', 'ramps', 'focus'].some((k) => changed(k as keyof RendererProps))) {
      const u = this.uniforms;
      u.pointSize.value = p.pointSize * (p.focus ? 2.5 : 1);
      u.sizeByNorm.value = p.sizeByNorm && p.norms ? 1 : 0;
      u.useNorm.value = p.useNorm && p.norms ? 1 : 0;
      rgb(u.qLight.value, p.ramps.query[0]);
      rgb(u.qDark.value, p.ramps.query[1]);
      rgb(u.kLight.value, p.ramps.key[0]);
      rgb(u.kDark.value, p.ramps.key[1]);
      render = true;
    }
    if (changed('focus') || changed('pointBudget')) {
      this.updateOverview();
      render = true;
    }
    if (changed('thumbs') || changed('focus') || changed('thumbSize')) {
      const u = this.uniforms;
      const t = p.thumbs;
      // Thumbnails in the head view; the matrix keeps its dots (level of detail keeps it fluid).
      u.useThumbs.value = t && p.focus ? 1 : 0;
      u.thumbSize.value = p.thumbSize;
      if (t) {
        const [rows, cols] = t.layout.grid;
        u.thumbs.value = t.texture;
        u.thumbLayout.value.set(t.layout.specials + rows * cols, t.layout.specials, rows, cols);
        u.thumbCell.value.set(t.cell[0], t.cell[1], t.perRow);
        u.thumbAtlas.value.set(t.size[0], t.size[1]);
      }
      render = true;
    }
    // The detail follows the focus, the zoomed-in cells, what is highlighted and the norms.
    if (changed('focus') || changed('fullCells') || changed('norms') || changed('dims') || (changed('pointState') && !p.focus)) {
      this.detailDirty = true;
      render = this.rebuildDetail() || render;
    }
    if (changed('cellColours') || changed('focus')) {
      const colours = p.cellColours;
      this.overlay.visible = !!colours && !p.focus;
      if (colours && changed('cellColours')) {
        const tint = this.overlay.geometry.getAttribute('tint') as THREE.BufferAttribute;
        for (let c = 0; c < this.shape.layers * this.shape.heads; c++) {
          for (let v = 0; v < 4; v++) for (let k = 0; k < 3; k++) tint.array[(c * 4 + v) * 3 + k] = colours[c * 3 + k] / 255;
        }
        tint.needsUpdate = true;
      }
      render = true;
    }
    if (changed('links') || changed('focus') || changed('dims')) {
      this.linkedCoords = null;
      render = this.updateLinks() || render;
    }
    return render;
  }

  /** The point of the focused head drawn nearest to (x, y) in canvas CSS pixels, as `camera` saw it. */
  pick(gl: THREE.WebGLRenderer, camera: THREE.PerspectiveCamera, x: number, y: number): number | null {
    const f = this.props.focus;
    if (!f || !this.coordsOf(f)) return null;
    return this.picker.pick(gl, camera, this.pickPoints, x, y);
  }

  dispose(): void {
    this.overview.dispose();
    this.detail.dispose();
    this.texture.dispose();
    this.materials.view.dispose();
    this.materials.pick.dispose();
    this.linkLines.geometry.dispose();
    (this.linkLines.material as THREE.Material).dispose();
    this.overlay.geometry.dispose();
    (this.overlay.material as THREE.Material).dispose();
    this.picker.dispose();
  }

  private clearLayouts(): void {
    this.uploaded.clear();
    this.detailFull.clear();
    this.syncedVersion = -1;
    this.linkedCoords = null;
    const ready = this.overview.getAttribute('ready') as THREE.BufferAttribute;
    ready.array.fill(0);
    ready.clearUpdateRanges();
    ready.needsUpdate = true;
    this.detailDirty = true;
  }

  /** The overview draws whole blocks of the first slots of every cell; nothing in the head view. */
  private updateOverview(): void {
    const cells = this.shape.layers * this.shape.heads;
    const count = this.props.focus ? 0 : Math.min(overviewLayout(this.shape).vertices, overviewCount(cells, this.perCell));
    this.overview.setDrawRange(0, count);
    this.overviewPoints.visible = count > 0;
    this.countDrawn();
  }

  /** Rewrites the detail geometry: the focused head in full, or the matrix's full cells and always-drawn points. */
  private rebuildDetail(): boolean {
    this.detailDirty = false;
    const { focus, fullCells, pointState, norms, dims } = this.props;
    const P = this.shape.points;
    const heads = this.shape.heads;
    const full: number[] = focus ? [focus.layer * heads + focus.head] : [...fullCells];
    const always: number[] = [];
    if (!focus && pointState) for (let p = 0; p < P; p++) if (pointState[p * 4 + 3] >= ALWAYS_DRAWN) always.push(p);
    this.alwaysCount = always.length;
    const cells = this.shape.layers * heads;
    const need = full.length * (focus ? P : Math.min(P, MAX_FULL_CELL_POINTS)) + (always.length ? cells * always.length : 0);
    const capacity = this.detail.getAttribute('position').count;
    if (need > capacity) {
      this.detail.dispose();
      this.detail = this.watchDetail(createDetailGeometry(Math.max(need, 2 * capacity)));
      this.detailPoints.geometry = this.detail;
      this.pickPoints.geometry = this.detail;
    }
    let at = 0;
    const put = (c: number, p: number, coords: Float32Array, slot = p) =>
      writeDetailPoint(this.detail, this.shape, at++, Math.floor(c / heads), c % heads, p, coords, dims, norms ? norms[c * P + p] : 0, slot);
    // Cells drawn in full: a large run holds only a few heads' full layouts, so those are asked for (and drawn when in).
    if (this.store && this.view)
      this.store.requestFull(
        this.view,
        full.map((c) => ({ layer: Math.floor(c / heads), head: c % heads })),
      );
    this.detailFull = new Map(full.map((c) => [c, this.fullOf(c)]));
    // The focused head in full; a cell zoomed in on in the matrix up to MAX_FULL_CELL_POINTS of its sample order.
    for (const c of full) {
      const coords = this.detailFull.get(c);
      if (!coords) continue;
      if (focus || P <= MAX_FULL_CELL_POINTS) for (let p = 0; p < P; p++) put(c, p, coords);
      else for (let v = 0; v < MAX_FULL_CELL_POINTS; v++) put(c, this.order[v], coords);
    }
    if (always.length) {
      // Highlighted points of every cell: from its full layout, else from its overview where the sample holds them.
      const fullSet = new Set(full);
      const sampled = this.shape.overviewPoints < P;
      if (sampled && !this.rank) {
        this.rank = new Int32Array(P).fill(-1);
        for (let v = 0; v < this.shape.overviewPoints; v++) this.rank[this.order[v]] = v;
      }
      for (let c = 0; c < cells; c++) {
        if (fullSet.has(c)) continue;
        const held = this.fullOf(c);
        const coords = held ?? this.uploaded.get(c);
        if (!coords) continue;
        for (const p of always) {
          if (held || !sampled) put(c, p, coords);
          else if (this.rank![p] >= 0) put(c, p, coords, this.rank![p]);
        }
      }
    }
    for (const name of ['position', 'pointIndex', 'ready', 'normValue']) {
      const attr = this.detail.getAttribute(name) as THREE.BufferAttribute;
      attr.clearUpdateRanges();
      attr.addUpdateRange(0, at * attr.itemSize);
      attr.needsUpdate = true;
    }
    this.detail.setDrawRange(0, at);
    this.detailPoints.visible = at > 0;
    this.countDrawn();
    return true;
  }

  /** Detail uploads count with the rest (the page shows nothing is re-sent while orbiting). */
  private watchDetail(g: THREE.BufferGeometry): THREE.BufferGeometry {
    for (const name of ['position', 'pointIndex', 'ready', 'normValue']) this.uploads.watch(g.getAttribute(name) as THREE.BufferAttribute);
    return g;
  }

  private countDrawn(): void {
    // The overview's last block of a cell is padded past the head's points: those slots draw nothing.
    const cells = this.shape.layers * this.shape.heads;
    const overview = this.overviewPoints.visible ? cells * Math.min(this.shape.overviewPoints, this.overview.drawRange.count / cells) : 0;
    this.drawnPoints = overview + (this.detailPoints.visible ? this.detail.drawRange.count : 0);
  }

  /** Rewrites the links only when the selection, the head or that head's layout changed. */
  private updateLinks(): boolean {
    const { focus, links, dims } = this.props;
    const coords = focus ? this.coordsOf(focus) : null;
    if (coords === this.linkedCoords && (coords !== null || !this.linkLines.visible)) return false;
    this.linkedCoords = coords;
    writeLinks(this.linkLines, this.shape, focus, coords, dims, links);
    return true;
  }
}
