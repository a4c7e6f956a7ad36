'use client';
// A 3D view of the model: the React shell around QKRenderer. It mounts the canvas, the
// orbit controls, the camera rig and the labels, forwards props to the renderer, and reads
// layouts from the layout store inside the frame loop: a layout arriving (or a UMAP epoch
// tick) re-renders no React component, and redraws only the views that show it.
import { Canvas, useFrame, useThree } from '@react-three/fiber';
import { OrbitControls } from '@react-three/drei';
import { useEffect, useLayoutEffect, useMemo, useRef } from 'react';
import * as THREE from 'three';
import type { LayoutStore, LayoutView } from '../projection/LayoutStore';
import { useView } from '../state/viewStore';
import { CAMERA_FRAME_PRIORITY, CameraRig, type OrbitLike } from './CameraRig';
import type { CameraLink } from './cameraLink';
import type { MatrixShape } from './geometry';
import { BACKGROUND } from './pointMaterial';
import { QKRenderer, type RendererProps } from './QKRenderer';
import { useCellLabels } from './useCellLabels';
import { frameDrawn } from './frameClock';
import { type LevelOfDetail, useLevelOfDetail } from './useLevelOfDetail';
import { usePointer } from './usePointer';
import { type LabelSource, useTokenLabels } from './useTokenLabels';
import './quietThree';

export { MAX_LINK_K } from './sceneObjects';

export interface QKViewProps {
  testId: string;
  /** A caption in the view's corner (compare mode names its panes). */
  caption?: string;
  shape: MatrixShape;
  layouts: LayoutStore;
  view: LayoutView;
  /** Every pane's view (compare mode shows two): a flight frames the head's layouts in all of them. */
  allViews: LayoutView[];
  /** What the points look like: state texture, norms, ramps, links, overlay. */
  look: Pick<RendererProps, 'pointState' | 'norms' | 'ramps' | 'links' | 'cellColours' | 'thumbs' | 'thumbSize'>;
  describe: (point: number) => string[];
  labelText: (point: number) => string;
  labelOrder: Int32Array;
  cameraLink: CameraLink;
  /** The pane that takes the fly keys (the other follows through the camera link). */
  primary: boolean;
  /** The sample order of a head's points (lib/views/lod.ts): the overview draws a prefix of it per cell. */
  order: Int32Array;
}

type Layers = {
  wrapper: React.RefObject<HTMLDivElement | null>;
  tooltip: React.RefObject<HTMLDivElement | null>;
  labels: React.RefObject<HTMLDivElement | null>;
  cells: React.RefObject<HTMLDivElement | null>;
  hud: React.RefObject<HTMLDivElement | null>;
};

function SceneContents(props: QKViewProps & Layers) {
  const { shape, layouts, view, look } = props;
  const gl = useThree((s) => s.gl);
  const camera = useThree((s) => s.camera) as THREE.PerspectiveCamera;
  const scene = useThree((s) => s.scene);
  const invalidate = useThree((s) => s.invalidate);
  const controls = useThree((s) => s.controls) as unknown as OrbitLike | null;
  const focus = useView((s) => s.focus);
  const dotSize = useView((s) => s.dotSize);
  const sizeByNorm = useView((s) => s.sizeByNorm);
  const useNorm = useView((s) => s.colourMode === 'norm' || s.colourMode === 'valueNorm');
  const resetToken = useView((s) => s.resetToken);
  const initialCamera = useView((s) => s.initialCamera);

  const renderer = useMemo(() => new QKRenderer(shape, props.order), [shape, props.order]);
  useEffect(() => () => renderer.dispose(), [renderer]);
  // The camera as of the last frame drawn: what a click is resolved against.
  const shown = useMemo(() => camera.clone(), [camera]);

  useLayoutEffect(() => {
    if (renderer.setProps({ dims: view.dims, focus, pointSize: dotSize, sizeByNorm, useNorm, ...look })) invalidate();
  }, [renderer, view.dims, focus, dotSize, sizeByNorm, useNorm, look, invalidate]);

  // Layouts: redraw when one this view shows arrives; the upload itself happens in the frame.
  const viewRef = useRef(view);
  viewRef.current = view;
  useEffect(() => {
    let seen = -1;
    const check = () => {
      const v = layouts.version(viewRef.current);
      if (v !== seen) {
        seen = v;
        invalidate();
      }
    };
    check();
    return layouts.subscribe(check);
  }, [layouts, invalidate]);
  useEffect(() => invalidate(), [view, invalidate]);
  useFrame(() => {
    if (renderer.syncLayouts(layouts, viewRef.current)) invalidate();
  }, CAMERA_FRAME_PRIORITY - 2);

  const describe = useRef(props.describe);
  describe.current = props.describe;
  usePointer({ gl, renderer, shown, shape, tooltip: props.tooltip, describe });

  // Linked cameras: take another view's move before this frame, publish ours before rendering.
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

  const detail = useRef<LevelOfDetail | null>(null);
  detail.current = useLevelOfDetail(renderer, camera, focus, invalidate, props.wrapper, props.hud);
  // After the camera has moved for this frame (priority ≤ 0), before it is drawn.
  useFrame(() => detail.current?.beforeRender(), 0.5);

  // Render (taking over from R3F to read the frame's own draw calls), then place token labels.
  useFrame(() => {
    if (controls) {
      link.publish(linkId.current, [...camera.position.toArray(), ...controls.target.toArray()]);
      seen.current = link.version;
    }
    gl.render(scene, camera);
    shown.copy(camera);
    const w = props.wrapper.current;
    if (w) {
      w.dataset.drawCalls = String(gl.info.render.calls);
      w.dataset.frames = String(Number(w.dataset.frames ?? 0) + 1);
      w.dataset.uploads = String(renderer.uploads.count);
    }
    const now = performance.now();
    detail.current?.afterRender(now);
    frameDrawn(now);
  }, 1);
  const labelSource = useRef<LabelSource>({ focus, dims: view.dims, labelOrder: props.labelOrder, labelText: props.labelText });
  labelSource.current = { focus, dims: view.dims, labelOrder: props.labelOrder, labelText: props.labelText };
  useTokenLabels(camera, props.labels, renderer, shape, labelSource);
  useCellLabels(camera, props.cells, shape, !focus);

  return (
    <>
      <primitive object={renderer.object} />
      <CameraRig
        shape={shape}
        focus={focus}
        dims={view.dims}
        resetToken={resetToken}
        initialPose={initialCamera}
        keys={props.primary}
        layoutsOf={(cell) => {
          // What frames a head: its overview (every point of a small run, a fair sample of a large one).
          const all = props.allViews.map((v) => layouts.overview(v, cell.layer, cell.head)?.coords ?? null);
          return all.every((c): c is Float32Array => c !== null) ? all : null;
        }}
        element={props.wrapper}
        viewKey={props.allViews.map((v) => `${v.mode}|${v.method}|${v.dims}`).join(',')}
      />
    </>
  );
}

export function QKView(props: QKViewProps) {
  const { shape, caption } = props;
  const focus = useView((s) => s.focus);
  const dims = props.view.dims;
  const wrapper = useRef<HTMLDivElement>(null);
  const tooltip = useRef<HTMLDivElement>(null);
  const labels = useRef<HTMLDivElement>(null);
  const cells = useRef<HTMLDivElement>(null);
  const hud = useRef<HTMLDivElement>(null);
  const showHud = useView((s) => s.panels.hud);
  return (
    <div
      ref={wrapper}
      className="matrix-view"
      data-testid={props.testId}
      data-view={focus ? 'head' : 'matrix'}
      tabIndex={-1}
      aria-label={`${caption ? `${caption}: ` : ''}${focus ? `head view L${focus.layer} H${focus.head}` : 'matrix of all heads'}`}
    >
      <Canvas
        frameloop="demand"
        gl={{ preserveDrawingBuffer: true, antialias: false }}
        camera={{ position: [0, 0, 20], fov: 50, near: 0.05, far: 1000 }}
        dpr={1}
      >
        <color attach="background" args={[BACKGROUND]} />
        <SceneContents {...props} wrapper={wrapper} tooltip={tooltip} labels={labels} cells={cells} hud={hud} />
        {/* No damping: it keeps redrawing for dozens of frames after every drag, which a software renderer feels. */}
        <OrbitControls enableRotate={dims === 3} enableDamping={false} makeDefault screenSpacePanning />
      </Canvas>
      <div ref={cells} className="cell-labels" aria-hidden="true" />
      <div ref={labels} className="token-labels" aria-hidden="true" />
      <div ref={tooltip} className="tooltip" role="tooltip" hidden />
      {caption && <div className="view-caption">{caption}</div>}
      <div ref={hud} className="frame-hud" data-testid={`${props.testId}-hud`} hidden={!showHud} />
    </div>
  );
}
