// The matrix/head renderer as a plain three.js object behind a small interface: layouts are
// synced from the layout store (a head's range uploaded once per layout), everything else
// arrives through setProps, and both say whether a new frame is needed. One point geometry
// holds every head and one line geometry the links, so a frame is a couple of draw calls
// whatever the model's size. React (QKView) only mounts it and forwards props.
import * as THREE from 'three';
import type { Rgb } from '@/lib/views/colour';
import type { Links } from '@/lib/views/links';
import type { LayoutStore, LayoutView } from '../projection/LayoutStore';
import type { Cell } from '../state/viewStore';
import { type MatrixShape, createMatrixGeometry, writeHeadLayout } from './geometry';
import { PointPicker } from './picking';
import { STATE_TEXTURE_WIDTH, pointMaterials, pointStateTexture, pointUniforms } from './pointMaterial';
import { UploadCounter, createLinkLines, createOverlay, writeLinks } from './sceneObjects';

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
}

const rgb = (c: THREE.Color, [r, g, b]: Rgb) => c.setRGB(r / 255, g / 255, b / 255);

export class QKRenderer {
  readonly object = new THREE.Group();
  readonly uploads = new UploadCounter();
  private geometry: THREE.BufferGeometry;
  private texture: THREE.DataTexture;
  private uniforms: ReturnType<typeof pointUniforms>;
  private materials: ReturnType<typeof pointMaterials>;
  private pickPoints: THREE.Points;
  private linkLines: THREE.LineSegments;
  private overlay: THREE.Mesh;
  private picker = new PointPicker();
  /** The layout each cell was last written with (reference), for this view. */
  private uploaded = new Map<number, Float32Array>();
  private syncedView = '';
  private syncedVersion = -1;
  private linkedCoords: Float32Array | null = null;
  private props: RendererProps = {
    dims: 3,
    focus: null,
    pointState: null,
    norms: null,
    useNorm: false,
    ramps: { query: [[0, 0, 0], [0, 0, 0]], key: [[0, 0, 0], [0, 0, 0]] },
    pointSize: 2,
    sizeByNorm: false,
    links: null,
    cellColours: null,
  };

  constructor(readonly shape: MatrixShape) {
    this.geometry = createMatrixGeometry(shape);
    for (const name of ['position', 'pointIndex', 'ready', 'normValue']) this.uploads.watch(this.geometry.getAttribute(name) as THREE.BufferAttribute);
    this.texture = pointStateTexture(shape.points);
    this.texture.onUpdate = () => this.uploads.count++;
    this.uniforms = pointUniforms(this.texture, shape.points / 2);
    this.materials = pointMaterials(this.uniforms);
    const points = new THREE.Points(this.geometry, this.materials.view);
    points.frustumCulled = false;
    this.pickPoints = new THREE.Points(this.geometry, this.materials.pick);
    this.pickPoints.frustumCulled = false;
    this.linkLines = createLinkLines(this.uploads);
    this.overlay = createOverlay(shape);
    this.uploads.watch(this.overlay.geometry.getAttribute('tint') as THREE.BufferAttribute);
    this.overlay.visible = false;
    this.object.add(this.overlay, points, this.linkLines);
  }

  /** Writes newly arrived layouts of `view`; true when what is drawn changed. */
  syncLayouts(store: LayoutStore, view: LayoutView): boolean {
    const key = `${view.mode}|${view.method}|${view.dims}`;
    if (key === this.syncedView && store.version(view) === this.syncedVersion) return false;
    if (key !== this.syncedView || view.dims !== this.props.dims) this.clearLayouts();
    this.syncedView = key;
    this.syncedVersion = store.version(view);
    const { focus } = this.props;
    let changed = false;
    for (let l = 0; l < this.shape.layers; l++) {
      for (let h = 0; h < this.shape.heads; h++) {
        const coords = store.get(view, l, h);
        const cell = l * this.shape.heads + h;
        if (!coords || this.uploaded.get(cell) === coords) continue;
        this.uploaded.set(cell, coords);
        writeHeadLayout(this.geometry, this.shape, l, h, coords, view.dims);
        // In the head view another head's layout is uploaded with the next frame but needs none.
        if (!focus || (focus.layer === l && focus.head === h)) changed = true;
      }
    }
    return this.updateLinks() || changed;
  }

  /** The layout drawn for a cell, if any. */
  coordsOf(cell: Cell): Float32Array | null {
    return this.uploaded.get(cell.layer * this.shape.heads + cell.head) ?? null;
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
    if (changed('focus')) {
      const f = p.focus;
      if (f) this.geometry.setDrawRange((f.layer * this.shape.heads + f.head) * this.shape.points, this.shape.points);
      else this.geometry.setDrawRange(0, Infinity);
      render = true;
    }
    if (changed('pointState') && p.pointState) {
      const data = this.texture.image.data as Uint8Array;
      data.set(p.pointState.subarray(0, Math.min(p.pointState.length, STATE_TEXTURE_WIDTH * this.texture.image.height * 4)));
      this.texture.needsUpdate = true;
      render = true;
    }
    if (changed('norms') && p.norms) {
      const attr = this.geometry.getAttribute('normValue') as THREE.BufferAttribute;
      (attr.array as Float32Array).set(p.norms);
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
    this.geometry.dispose();
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
    this.syncedVersion = -1;
    this.linkedCoords = null;
    const ready = this.geometry.getAttribute('ready') as THREE.BufferAttribute;
    ready.array.fill(0);
    ready.clearUpdateRanges();
    ready.needsUpdate = true;
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
