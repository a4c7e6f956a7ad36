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
import { CAMERA_FRAME_PRIORITY, CameraRig, type OrbitLike } from './CameraRig';
import type { CameraLink } from './cameraLink';
import { type MatrixShape, cellCenter, createMatrixGeometry, writeHeadLayout } from './geometry';
import { BACKGROUND, STATE_TEXTURE_WIDTH, pointMaterials, pointStateTexture, pointUniforms } from './pointMaterial';
import { UploadCounter, createLinkLines, createOverlay, writeLinks } from './sceneObjects';
import { usePointer } from './usePointer';
import { useTokenLabels } from './useTokenLabels';

export { MAX_LINK_K } from './sceneObjects';

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

const rgb = (c: THREE.Color, [r, g, b]: Rgb) => c.setRGB(r / 255, g / 255, b / 255);

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
        // In the head view another head's layout is uploaded with the next frame but needs none.
        if (!focus || (focus.layer === l && focus.head === h)) changed = true;
      }
    }
    if (changed) invalidate();
  }, [version, layout, geometry, shape, dims, focus, invalidate]);

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
    invalidate();
  }, [uniforms, pointSize, sizeByNorm, useNorm, norms, ramps, focus, invalidate]);

  // Attention links: one line geometry, rewritten only when the selection, the head or that
  // head's layout changes (not whenever some other head's layout arrives).
  const linkObject = useMemo(() => createLinkLines(uploads), [uploads]);
  const focusCoords = focus ? layout(focus.layer, focus.head) : null;
  useEffect(() => {
    writeLinks(linkObject, shape, focus, focusCoords, dims, links);
    invalidate();
  }, [links, focus, focusCoords, dims, shape, linkObject, invalidate]);

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
      linkObject.geometry.dispose();
      (linkObject.material as THREE.Material).dispose();
      texture.dispose();
      materials.view.dispose();
      materials.pick.dispose();
    },
    [geometry, linkObject, texture, materials],
  );

  const latest = useRef(props);
  latest.current = props;
  usePointer({ gl, camera, pickPoints, tooltip: props.tooltip, wrapper: props.wrapper, latest });

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
  }, CAMERA_FRAME_PRIORITY - 1);

  // Render (taking over from R3F to read the frame's own draw calls), then place token labels.
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
  useTokenLabels(camera, props.labels, latest);

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
