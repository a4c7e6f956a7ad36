'use client';
// The 3D view of the model: every head in one scene (the matrix), or one head flown into
// (the head view) with its attention links, token labels, tooltips and picking. One point
// geometry holds all heads and one line geometry the links, so a frame is a couple of draw
// calls whatever the model's size; buffers are uploaded only when their data changes, and
// the canvas renders on demand.
import { Canvas, useFrame, useThree } from '@react-three/fiber';
import { Html, OrbitControls } from '@react-three/drei';
import { useEffect, useMemo, useRef } from 'react';
import * as THREE from 'three';
import type { Rgb } from '@/lib/views/colour';
import type { Links } from '@/lib/views/links';
import { placeLabels } from '@/lib/views/labels';
import { CameraRig, type OrbitLike } from './CameraRig';
import type { CameraLink } from './cameraLink';
import { CELL_SPACING, type MatrixShape, cellAt, cellCenter, createMatrixGeometry, writeHeadLayout } from './geometry';
import { PointPicker } from './picking';
import { BACKGROUND, STATE_TEXTURE_WIDTH, pointMaterials, pointStateTexture, pointUniforms } from './pointMaterial';

export interface Cell {
  layer: number;
  head: number;
}

export interface QKSceneProps {
  shape: MatrixShape;
  dims: 2 | 3;
  layout: (layer: number, head: number) => Float32Array | null;
  /** Changes whenever a layout arrives or the projection shown changes. */
  version: number;
  focus: Cell | null;
  onFocus: (cell: Cell | null) => void;
  /** RGBA per point (colour, highlight state), shared by all heads. */
  pointState: Uint8Array;
  /** Per-vertex norms scaled 0…1 within each head ([cell][point]), when needed. */
  norms: Float32Array | null;
  useNorm: boolean;
  ramps: { query: [Rgb, Rgb]; key: [Rgb, Rgb] };
  pointSize: number;
  sizeByNorm: boolean;
  links: Links | null;
  onSelect: (point: number | null) => void;
  /** Tooltip lines for a point of the focused head. */
  describe: (point: number) => string[];
  labelText: (point: number) => string;
  /** Points in the order their labels should be tried (most important first). */
  labelOrder: Int32Array;
  resetToken: number;
  onStep: (dLayer: number, dHead: number) => void;
  /** RGB per head (cell order) for the matrix overlay behind each cell, or null for none. */
  cellColours: Uint8Array | null;
  /** Shared with the other views in compare mode; also holds the pose a shared link records. */
  cameraLink: CameraLink;
  initialPose?: number[] | null;
  /** A caption drawn in the view's corner (compare mode names its panes). */
  caption?: string;
  testId?: string;
}

/** Most token labels drawn at once; more than this stops being readable. */
const MAX_LABELS = 70;
/** Label candidates projected per update, taken from the front of the priority order. */
const MAX_LABEL_CANDIDATES = 4000;
/** Link capacity: a 512-token sentence with the largest k the controls allow. */
export const MAX_LINK_K = 10;
const MAX_LINKS = 512 * MAX_LINK_K;
const LINK_COLOUR = [0xff / 255, 0xc3 / 255, 0x00 / 255];
/** A pointer that moves less than this between press and release clicked rather than dragged. */
const CLICK_SLOP = 5;

const rgb = (c: THREE.Color, [r, g, b]: Rgb) => c.setRGB(r / 255, g / 255, b / 255);

/** Counts GPU uploads of the scene's buffers and textures, to show nothing is re-sent per frame. */
class UploadCounter {
  count = 0;
  watch(attribute: THREE.BufferAttribute): void {
    attribute.onUpload(() => this.count++);
  }
}

const linkVertex = /* glsl */ `
  attribute float weight;
  varying float vWeight;
  void main() {
    vWeight = weight;
    gl_Position = projectionMatrix * modelViewMatrix * vec4(position, 1.0);
  }
`;
const overlayVertex = /* glsl */ `
  attribute vec3 tint;
  varying vec3 vTint;
  void main() {
    vTint = tint;
    gl_Position = projectionMatrix * modelViewMatrix * vec4(position, 1.0);
  }
`;
const overlayFragment = /* glsl */ `
  varying vec3 vTint;
  void main() { gl_FragColor = vec4(vTint, 0.55); }
`;

/** One mesh of a quad per head, tinted by a per-head figure: one draw call for the overlay. */
function createOverlay(shape: MatrixShape): THREE.Mesh {
  const cells = shape.layers * shape.heads;
  const position = new Float32Array(cells * 4 * 3);
  const index: number[] = [];
  const half = CELL_SPACING * 0.48;
  for (let c = 0; c < cells; c++) {
    const [x, y] = cellCenter(shape, Math.floor(c / shape.heads), c % shape.heads);
    // Behind the cloud, which fills the unit ball around z = 0.
    [[-1, -1], [1, -1], [1, 1], [-1, 1]].forEach(([dx, dy], v) => position.set([x + dx * half, y + dy * half, -1.05], (c * 4 + v) * 3));
    index.push(c * 4, c * 4 + 1, c * 4 + 2, c * 4, c * 4 + 2, c * 4 + 3);
  }
  const g = new THREE.BufferGeometry();
  g.setAttribute('position', new THREE.BufferAttribute(position, 3));
  g.setAttribute('tint', new THREE.BufferAttribute(new Float32Array(cells * 4 * 3), 3));
  g.setIndex(index);
  const material = new THREE.ShaderMaterial({ vertexShader: overlayVertex, fragmentShader: overlayFragment, transparent: true, depthWrite: false });
  const mesh = new THREE.Mesh(g, material);
  mesh.renderOrder = -1;
  mesh.frustumCulled = false;
  return mesh;
}

const linkFragment = /* glsl */ `
  uniform vec3 colour;
  varying float vWeight;
  void main() { gl_FragColor = vec4(colour, vWeight); }
`;

function SceneContents(props: QKSceneProps & { wrapper: React.RefObject<HTMLDivElement | null>; tooltip: React.RefObject<HTMLDivElement | null>; labels: React.RefObject<HTMLDivElement | null> }) {
  const { shape, dims, layout, version, focus, pointState, norms, useNorm, ramps, pointSize, sizeByNorm, links } = props;
  const gl = useThree((s) => s.gl);
  const camera = useThree((s) => s.camera) as THREE.PerspectiveCamera;
  const scene = useThree((s) => s.scene);
  const invalidate = useThree((s) => s.invalidate);
  const uploads = useMemo(() => new UploadCounter(), []);
  const tokenCount = shape.points / 2;

  const geometry = useMemo(() => {
    const g = createMatrixGeometry(shape);
    for (const name of ['position', 'pointIndex', 'ready', 'normValue']) uploads.watch(g.getAttribute(name) as THREE.BufferAttribute);
    return g;
  }, [shape, uploads]);
  const texture = useMemo(() => {
    const t = pointStateTexture(shape.points);
    t.onUpdate = () => uploads.count++;
    return t;
  }, [shape.points, uploads]);
  const uniforms = useMemo(() => pointUniforms(texture, tokenCount), [texture, tokenCount]);
  const materials = useMemo(() => pointMaterials(uniforms), [uniforms]);
  const points = useMemo(() => {
    const p = new THREE.Points(geometry, materials.view);
    p.frustumCulled = false;
    return p;
  }, [geometry, materials]);
  const pickPoints = useMemo(() => {
    const p = new THREE.Points(geometry, materials.pick);
    p.frustumCulled = false;
    return p;
  }, [geometry, materials]);
  const uploaded = useRef(new Map<number, Float32Array>());

  // Layouts: a head's range is written and uploaded once per layout it shows.
  useEffect(() => {
    uploaded.current.clear();
    const ready = geometry.getAttribute('ready') as THREE.BufferAttribute;
    ready.array.fill(0);
    ready.clearUpdateRanges();
    ready.needsUpdate = true;
  }, [geometry, dims]);
  useEffect(() => {
    let changed = false;
    for (let l = 0; l < shape.layers; l++) {
      for (let h = 0; h < shape.heads; h++) {
        const coords = layout(l, h);
        const cell = l * shape.heads + h;
        if (!coords || uploaded.current.get(cell) === coords) continue;
        uploaded.current.set(cell, coords);
        writeHeadLayout(geometry, shape, l, h, coords, dims);
        changed = true;
      }
    }
    if (changed) invalidate();
  }, [version, layout, geometry, shape, dims, invalidate]);

  // In the head view only the focused head's range is drawn (and picked).
  useEffect(() => {
    if (focus) geometry.setDrawRange((focus.layer * shape.heads + focus.head) * shape.points, shape.points);
    else geometry.setDrawRange(0, Infinity);
    invalidate();
  }, [focus, geometry, shape, invalidate]);

  useEffect(() => {
    (texture.image.data as Uint8Array).set(pointState.subarray(0, Math.min(pointState.length, STATE_TEXTURE_WIDTH * texture.image.height * 4)));
    texture.needsUpdate = true;
    invalidate();
  }, [pointState, texture, invalidate]);

  useEffect(() => {
    if (!norms) return;
    const attr = geometry.getAttribute('normValue') as THREE.BufferAttribute;
    (attr.array as Float32Array).set(norms);
    attr.needsUpdate = true;
    invalidate();
  }, [norms, geometry, invalidate]);

  useEffect(() => {
    const u = uniforms;
    u.pointSize.value = pointSize * (focus ? 2.5 : 1);
    u.sizeByNorm.value = sizeByNorm && norms ? 1 : 0;
    u.useNorm.value = useNorm && norms ? 1 : 0;
    rgb(u.qLight.value, ramps.query[0]);
    rgb(u.qDark.value, ramps.query[1]);
    rgb(u.kLight.value, ramps.key[0]);
    rgb(u.kDark.value, ramps.key[1]);
    rgb(u.background.value, [0x11, 0x14, 0x1a]);
    invalidate();
  }, [uniforms, pointSize, sizeByNorm, useNorm, norms, ramps, focus, invalidate]);

  // Attention links: one line geometry, rewritten when the selection or the head changes.
  const linkGeometry = useMemo(() => {
    const g = new THREE.BufferGeometry();
    const position = new THREE.BufferAttribute(new Float32Array(MAX_LINKS * 2 * 3), 3);
    const weight = new THREE.BufferAttribute(new Float32Array(MAX_LINKS * 2), 1);
    position.setUsage(THREE.DynamicDrawUsage);
    weight.setUsage(THREE.DynamicDrawUsage);
    g.setAttribute('position', position);
    g.setAttribute('weight', weight);
    g.setDrawRange(0, 0);
    uploads.watch(position);
    uploads.watch(weight);
    return g;
  }, [uploads]);
  const linkObject = useMemo(() => {
    const material = new THREE.ShaderMaterial({
      vertexShader: linkVertex,
      fragmentShader: linkFragment,
      uniforms: { colour: { value: new THREE.Color().setRGB(LINK_COLOUR[0], LINK_COLOUR[1], LINK_COLOUR[2]) } },
      transparent: true,
      depthTest: false,
      depthWrite: false,
    });
    const lines = new THREE.LineSegments(linkGeometry, material);
    lines.frustumCulled = false;
    lines.renderOrder = 2;
    return lines;
  }, [linkGeometry]);
  useEffect(() => {
    const coords = focus ? layout(focus.layer, focus.head) : null;
    const count = focus && coords && links ? Math.min(links.weight.length, MAX_LINKS) : 0;
    linkObject.visible = count > 0;
    if (count > 0 && focus && coords && links) {
      const pos = linkGeometry.getAttribute('position') as THREE.BufferAttribute;
      const w = linkGeometry.getAttribute('weight') as THREE.BufferAttribute;
      const [cx, cy] = cellCenter(shape, focus.layer, focus.head);
      const put = (vertex: number, point: number) => {
        pos.array[vertex * 3] = cx + coords[point * dims];
        pos.array[vertex * 3 + 1] = cy + coords[point * dims + 1];
        pos.array[vertex * 3 + 2] = dims === 3 ? coords[point * dims + 2] : 0;
      };
      for (let i = 0; i < count; i++) {
        put(2 * i, links.query[i]);
        put(2 * i + 1, tokenCount + links.key[i]);
        w.array[2 * i] = links.weight[i];
        w.array[2 * i + 1] = links.weight[i];
      }
      pos.clearUpdateRanges();
      w.clearUpdateRanges();
      pos.addUpdateRange(0, count * 6);
      w.addUpdateRange(0, count * 2);
      pos.needsUpdate = true;
      w.needsUpdate = true;
    }
    linkGeometry.setDrawRange(0, count * 2);
    invalidate();
  }, [links, focus, layout, version, dims, shape, tokenCount, linkGeometry, linkObject, invalidate]);

  const overlay = useMemo(() => {
    const mesh = createOverlay(shape);
    uploads.watch(mesh.geometry.getAttribute('tint') as THREE.BufferAttribute);
    return mesh;
  }, [shape, uploads]);
  useEffect(() => {
    const colours = props.cellColours;
    overlay.visible = !!colours && !focus;
    if (colours) {
      const tint = overlay.geometry.getAttribute('tint') as THREE.BufferAttribute;
      for (let c = 0; c < shape.layers * shape.heads; c++) {
        for (let v = 0; v < 4; v++) for (let k = 0; k < 3; k++) tint.array[(c * 4 + v) * 3 + k] = colours[c * 3 + k] / 255;
      }
      tint.needsUpdate = true;
    }
    invalidate();
  }, [props.cellColours, focus, overlay, shape, invalidate]);
  useEffect(
    () => () => {
      overlay.geometry.dispose();
      (overlay.material as THREE.Material).dispose();
    },
    [overlay],
  );

  useEffect(
    () => () => {
      geometry.dispose();
      linkGeometry.dispose();
      texture.dispose();
      materials.view.dispose();
      materials.pick.dispose();
    },
    [geometry, linkGeometry, texture, materials],
  );

  // Pointer: hover names the head (matrix) or the point (head view); a click flies in or selects.
  const picker = useMemo(() => new PointPicker(), []);
  useEffect(() => () => picker.dispose(), [picker]);
  const latest = useRef(props);
  latest.current = props;
  useEffect(() => {
    const canvas = gl.domElement;
    const tooltip = props.tooltip.current;
    const raycaster = new THREE.Raycaster();
    const plane = new THREE.Plane(new THREE.Vector3(0, 0, 1), 0);
    const hit = new THREE.Vector3();
    let pressed: { x: number; y: number } | null = null;
    let frame = 0;
    const local = (e: PointerEvent) => {
      const r = canvas.getBoundingClientRect();
      return { x: e.clientX - r.left, y: e.clientY - r.top, width: r.width, height: r.height };
    };
    const cellUnder = (x: number, y: number, width: number, height: number) => {
      raycaster.setFromCamera(new THREE.Vector2((x / width) * 2 - 1, 1 - (y / height) * 2), camera);
      return raycaster.ray.intersectPlane(plane, hit) ? cellAt(shape, hit.x, hit.y) : null;
    };
    const pointUnder = (x: number, y: number) => {
      const p = latest.current;
      if (!p.focus || !p.layout(p.focus.layer, p.focus.head)) return null;
      return picker.pick(gl, camera, pickPoints, x, y);
    };
    const show = (lines: string[] | null, x = 0, y = 0) => {
      if (!tooltip) return;
      if (!lines) {
        tooltip.hidden = true;
        return;
      }
      tooltip.replaceChildren(
        ...lines.map((line, i) => {
          const div = document.createElement('div');
          div.textContent = line;
          if (i === 0) div.className = 'tooltip-title';
          return div;
        }),
      );
      tooltip.hidden = false;
      tooltip.style.transform = `translate(${Math.round(x + 14)}px, ${Math.round(y + 14)}px)`;
    };
    const move = (e: PointerEvent) => {
      if (e.buttons) return show(null);
      const { x, y, width, height } = local(e);
      cancelAnimationFrame(frame);
      // At most one pick per displayed frame, however fast the pointer moves.
      frame = requestAnimationFrame(() => {
        const p = latest.current;
        if (!p.focus) {
          const cell = cellUnder(x, y, width, height);
          canvas.style.cursor = cell ? 'pointer' : 'grab';
          show(cell ? [`L${cell.layer} H${cell.head}`, 'click to fly into this head'] : null, x, y);
          return;
        }
        const point = pointUnder(x, y);
        canvas.style.cursor = point === null ? 'grab' : 'pointer';
        show(point === null ? null : p.describe(point), x, y);
      });
    };
    const down = (e: PointerEvent) => {
      pressed = { x: e.clientX, y: e.clientY };
    };
    const up = (e: PointerEvent) => {
      if (!pressed || Math.hypot(e.clientX - pressed.x, e.clientY - pressed.y) > CLICK_SLOP) return;
      pressed = null;
      const { x, y, width, height } = local(e);
      const p = latest.current;
      if (!p.focus) {
        const cell = cellUnder(x, y, width, height);
        if (cell) {
          show(null);
          p.onFocus(cell);
        }
        return;
      }
      p.onSelect(pointUnder(x, y));
    };
    const leave = () => show(null);
    canvas.addEventListener('pointermove', move);
    canvas.addEventListener('pointerdown', down);
    canvas.addEventListener('pointerup', up);
    canvas.addEventListener('pointerleave', leave);
    return () => {
      cancelAnimationFrame(frame);
      canvas.removeEventListener('pointermove', move);
      canvas.removeEventListener('pointerdown', down);
      canvas.removeEventListener('pointerup', up);
      canvas.removeEventListener('pointerleave', leave);
    };
  }, [gl, camera, shape, picker, pickPoints, props.tooltip]);

  // Keys on the focused view: arrows step to the adjacent head, Escape returns to the matrix.
  useEffect(() => {
    const el = props.wrapper.current;
    if (!el) return;
    const key = (e: KeyboardEvent) => {
      if ((e.target as HTMLElement).closest('input, select, textarea')) return;
      const p = latest.current;
      const steps: Record<string, [number, number]> = { ArrowLeft: [0, -1], ArrowRight: [0, 1], ArrowUp: [-1, 0], ArrowDown: [1, 0] };
      if (p.focus && steps[e.key]) {
        e.preventDefault();
        p.onStep(...steps[e.key]);
      } else if (e.key === 'Escape' && p.focus) p.onFocus(null);
    };
    el.addEventListener('keydown', key);
    return () => el.removeEventListener('keydown', key);
  }, [props.wrapper]);

  // Linked cameras: take another view's move before this frame, publish ours before rendering.
  const controls = useThree((s) => s.controls) as unknown as OrbitLike | null;
  const link = props.cameraLink;
  const linkId = useRef(-1);
  const seen = useRef(0);
  useEffect(() => {
    linkId.current = link.join(invalidate);
    return () => link.leave(linkId.current);
  }, [link, invalidate]);
  useFrame(() => {
    if (!controls || link.version === seen.current) return;
    seen.current = link.version;
    if (link.source === linkId.current || !link.pose) return;
    camera.position.fromArray(link.pose, 0);
    controls.target.fromArray(link.pose, 3);
    camera.lookAt(controls.target);
  });

  // Render (taking over from R3F to read the frame's own draw calls), then place token labels.
  const lastView = useRef(new THREE.Matrix4());
  const labelInputs = useRef<unknown[]>([]);
  useFrame(() => {
    if (controls) {
      link.publish(linkId.current, [...camera.position.toArray(), ...controls.target.toArray()]);
      seen.current = link.version;
    }
    gl.render(scene, camera);
    const w = props.wrapper.current;
    if (w) {
      w.dataset.drawCalls = String(gl.info.render.calls);
      w.dataset.frames = String(Number(w.dataset.frames ?? 0) + 1);
      w.dataset.uploads = String(uploads.count);
    }
  }, 1);
  useFrame(() => {
    const container = props.labels.current;
    if (!container) return;
    const p = latest.current;
    const inputs = [p.focus, p.version, p.labelOrder, p.dims];
    camera.updateMatrixWorld();
    const view = camera.matrixWorldInverse;
    if (view.equals(lastView.current) && inputs.every((v, i) => v === labelInputs.current[i])) return;
    lastView.current.copy(view);
    labelInputs.current = inputs;
    const coords = p.focus ? p.layout(p.focus.layer, p.focus.head) : null;
    if (!p.focus || !coords) {
      container.replaceChildren();
      return;
    }
    const { width, height } = container.getBoundingClientRect();
    const [cx, cy] = cellCenter(shape, p.focus.layer, p.focus.head);
    const v = new THREE.Vector3();
    const candidates = Array.from(p.labelOrder.subarray(0, MAX_LABEL_CANDIDATES));
    const boxes = candidates.map((point) => {
      v.set(cx + coords[point * p.dims], cy + coords[point * p.dims + 1], p.dims === 3 ? coords[point * p.dims + 2] : 0).project(camera);
      if (v.z < -1 || v.z > 1) return null;
      const x = ((v.x + 1) / 2) * width;
      const y = ((1 - v.y) / 2) * height;
      return { x: x + 5, y: y - 8, width: 6.5 * p.labelText(point).length + 8, height: 15 };
    });
    const placed = placeLabels(boxes, candidates.keys(), { width, height }, MAX_LABELS);
    container.replaceChildren(
      ...placed.map((i) => {
        const span = document.createElement('span');
        const point = candidates[i];
        span.textContent = p.labelText(point);
        span.className = point < tokenCount ? 'token-label query' : 'token-label key';
        span.style.transform = `translate(${Math.round(boxes[i]!.x)}px, ${Math.round(boxes[i]!.y)}px)`;
        return span;
      }),
    );
  }, 2);

  return (
    <>
      <primitive object={overlay} />
      <primitive object={points} />
      <primitive object={linkObject} />
    </>
  );
}

export function QKScene(props: QKSceneProps) {
  const { shape, focus, dims, caption } = props;
  const wrapper = useRef<HTMLDivElement>(null);
  const tooltip = useRef<HTMLDivElement>(null);
  const labels = useRef<HTMLDivElement>(null);
  return (
    <div
      ref={wrapper}
      className="matrix-view"
      data-testid={props.testId ?? 'matrix-view'}
      data-view={focus ? 'head' : 'matrix'}
      tabIndex={0}
      aria-label={`${caption ? `${caption}: ` : ''}${focus ? `head view L${focus.layer} H${focus.head}` : 'matrix of all heads'}`}
    >
      <Canvas frameloop="demand" gl={{ preserveDrawingBuffer: true, antialias: false }} camera={{ position: [0, 0, 20], fov: 50, near: 0.05, far: 1000 }} dpr={1}>
        <color attach="background" args={[BACKGROUND]} />
        <SceneContents {...props} wrapper={wrapper} tooltip={tooltip} labels={labels} />
        {!focus &&
          Array.from({ length: shape.layers * shape.heads }, (_, c) => {
            const l = Math.floor(c / shape.heads);
            const h = c % shape.heads;
            const [x, y] = cellCenter(shape, l, h);
            return (
              // Portalled into the wrapper: with the default target, a label mounted before the
              // canvas is attached never appears.
              <Html key={c} position={[x, y - 1.15, 0]} center className="cell-label" portal={wrapper as React.RefObject<HTMLElement>}>
                L{l} H{h}
              </Html>
            );
          })}
        {/* No damping: it keeps redrawing for dozens of frames after every drag, which a software renderer feels. */}
        <OrbitControls enableRotate={dims === 3} enableDamping={false} makeDefault screenSpacePanning />
        <CameraRig shape={shape} focus={focus} resetToken={props.resetToken} element={wrapper} initialPose={props.initialPose} />
      </Canvas>
      <div ref={labels} className="token-labels" aria-hidden="true" />
      <div ref={tooltip} className="tooltip" role="tooltip" hidden />
      {caption && <div className="view-caption">{caption}</div>}
    </div>
  );
}
