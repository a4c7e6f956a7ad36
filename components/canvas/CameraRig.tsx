'use client';
// Moves the camera: a smooth flight to the matrix overview or into the focused head, framed
// so its cloud fills most of the view (and framed again when its layout arrives after the
// flight, unless the person has moved the camera since), and free flight with W/A/S/D
// (forward, left, back, right) and Q/E (down, up) whenever no text field has the keyboard.
import { useFrame, useThree } from '@react-three/fiber';
import { useEffect, useRef } from 'react';
import * as THREE from 'three';
import { type HeadFrame, frameView, headFrame, unionFrame } from '@/lib/views/frame';
import type { Cell } from '../state/viewStore';
import { type MatrixShape, UNIT_BALL_FRAME, cellCenter, matrixFrame } from './geometry';
import { typingIn } from './keys';

/** Length of a flight between views; long enough to follow, short enough not to wait for. */
export const FLY_MS = 650;
/**
 * A flight takes at least this many frames. On a slow renderer the picture on screen can be a
 * frame behind the camera; in small steps, a click resolved against the camera of the last
 * frame drawn still lands on the head that was seen.
 */
const MIN_FLIGHT_FRAMES = 6;
const FLY_KEYS = new Set(['w', 'a', 's', 'd', 'q', 'e']);
/**
 * Camera moves run before everything else in a frame (drei's OrbitControls update at −1, its
 * Html labels at 0), so labels are placed for the camera the frame is drawn with.
 */
export const CAMERA_FRAME_PRIORITY = -2;

/** What the rig needs of drei's OrbitControls. */
export interface OrbitLike {
  target: THREE.Vector3;
  enableRotate: boolean;
  addEventListener(type: 'start', listener: () => void): void;
  removeEventListener(type: 'start', listener: () => void): void;
}

interface Pose {
  position: THREE.Vector3;
  target: THREE.Vector3;
}

/** Pixels kept free at the bottom of the view for the legend and the projection status. */
const HUD_RESERVE_PX = 64;
/** The matrix is framed a little looser than a head: its labels sit at the edges. */
const MATRIX_FILL = 0.96;

const ease = (t: number) => (t < 0.5 ? 4 * t * t * t : 1 - (-2 * t + 2) ** 3 / 2);
const scratch = { forward: new THREE.Vector3(), right: new THREE.Vector3(), move: new THREE.Vector3() };

export function CameraRig({
  shape,
  focus,
  dims,
  resetToken,
  initialPose,
  keys,
  layoutsOf,
  element,
  viewKey,
}: {
  shape: MatrixShape;
  focus: Cell | null;
  dims: 2 | 3;
  resetToken: number;
  /** Where the first view should be (a shared link's camera) instead of the default. */
  initialPose?: number[] | null;
  /** Whether W/A/S/D/Q/E fly this camera (one pane of a linked pair takes the keys). */
  keys: boolean;
  /** A head's layouts in every pane showing it (one, or two in compare mode), to frame them all; null while one is missing. */
  layoutsOf: (cell: Cell) => Float32Array[] | null;
  /** Gets data-flying while a flight is under way. */
  element: React.RefObject<HTMLElement | null>;
  /** Names the layouts shown (every pane's view): when it changes, the head is framed again. */
  viewKey: string;
}) {
  const camera = useThree((s) => s.camera) as THREE.PerspectiveCamera;
  const controls = useThree((s) => s.controls) as unknown as OrbitLike | null;
  const size = useThree((s) => s.size);
  const invalidate = useThree((s) => s.invalidate);
  const flight = useRef<{ from: Pose; to: Pose; start: number; ms: number; frames: number } | null>(null);
  const held = useRef(new Set<string>());
  const lastFrame = useRef(0);
  const placed = useRef(false);
  /** Set while the focused head was flown to without its layout: frame it when it arrives. */
  const unframed = useRef<Cell | null>(null);
  const moved = useRef(false);

  const poseFor = (cell: Cell | null): { pose: Pose; framed: boolean } => {
    const aspect = size.width / Math.max(1, size.height);
    const reserve = Math.min(0.25, HUD_RESERVE_PX / Math.max(1, size.height));
    const place = (cx: number, cy: number, frame: HeadFrame, fill?: number): Pose => {
      const { distance, lookBelow } = frameView(frame, camera.fov, aspect, reserve, fill);
      const x = cx + frame.x;
      const y = cy + frame.y - lookBelow;
      return { position: new THREE.Vector3(x, y, distance), target: new THREE.Vector3(x, y, 0) };
    };
    if (!cell) return { pose: place(0, 0, matrixFrame(shape), MATRIX_FILL), framed: true };
    const [x, y] = cellCenter(shape, cell.layer, cell.head);
    const layouts = layoutsOf(cell);
    return layouts
      ? { pose: place(x, y, unionFrame(layouts.map((c) => headFrame(c, dims)))), framed: true }
      : { pose: place(x, y, UNIT_BALL_FRAME, 1), framed: false };
  };

  const fly = (to: Pose, ms = FLY_MS) => {
    if (!controls) return;
    flight.current = { from: { position: camera.position.clone(), target: controls.target.clone() }, to, start: performance.now(), ms, frames: 0 };
    if (element.current) element.current.dataset.flying = '1';
    invalidate();
  };

  useEffect(() => {
    if (!controls) return;
    const { pose, framed } = poseFor(focus);
    unframed.current = framed ? null : focus;
    moved.current = false;
    if (!placed.current) {
      // The first view appears in place; later changes fly.
      placed.current = true;
      if (initialPose?.length === 6) {
        // A shared link's camera is the person's choice: it is not re-framed.
        pose.position.fromArray(initialPose, 0);
        pose.target.fromArray(initialPose, 3);
        unframed.current = null;
        moved.current = true;
      }
      camera.position.copy(pose.position);
      controls.target.copy(pose.target);
      camera.lookAt(pose.target);
      invalidate();
      return;
    }
    fly(pose);
    // The flight is planned only when the head, the reset or the matrix changes.
  }, [focus?.layer, focus?.head, resetToken, controls, shape.layers, shape.heads, dims]);

  // The view changed size (compare mode, a panel, the heads drawer): frame it again, unless the
  // person has moved the camera since it was framed.
  const framedSize = useRef({ width: size.width, height: size.height });
  useEffect(() => {
    const before = framedSize.current;
    framedSize.current = { width: size.width, height: size.height };
    if (!controls || !placed.current || moved.current || (before.width === size.width && before.height === size.height)) return;
    const { pose, framed } = poseFor(focus);
    unframed.current = framed ? null : focus;
    flight.current = null;
    camera.position.copy(pose.position);
    controls.target.copy(pose.target);
    camera.lookAt(pose.target);
    invalidate();
    // Only a size change re-frames here.
  }, [size.width, size.height]);

  // Other layouts shown (PCA ↔ UMAP, vectors, compare panes): the head is framed again once they
  // are drawn, unless the person has moved the camera.
  const shownKey = useRef(viewKey);
  useEffect(() => {
    if (shownKey.current === viewKey) return;
    shownKey.current = viewKey;
    if (placed.current && !moved.current && focus) unframed.current = focus;
  }, [viewKey, focus]);

  // A drag or wheel on the view is the person taking over: no re-framing after that.
  useEffect(() => {
    if (!controls) return;
    const start = () => {
      moved.current = true;
      flight.current = null;
      if (element.current) element.current.dataset.flying = '0';
    };
    controls.addEventListener('start', start);
    return () => controls.removeEventListener('start', start);
  }, [controls, element]);

  useEffect(() => {
    if (!keys) return;
    const down = (e: KeyboardEvent) => {
      const k = e.key.toLowerCase();
      if (!FLY_KEYS.has(k) || e.ctrlKey || e.metaKey || e.altKey || typingIn(e)) return;
      held.current.add(k);
      moved.current = true;
      lastFrame.current = performance.now();
      invalidate();
    };
    const up = (e: KeyboardEvent) => held.current.delete(e.key.toLowerCase());
    const clear = () => held.current.clear();
    window.addEventListener('keydown', down);
    window.addEventListener('keyup', up);
    window.addEventListener('blur', clear);
    return () => {
      window.removeEventListener('keydown', down);
      window.removeEventListener('keyup', up);
      window.removeEventListener('blur', clear);
    };
  }, [keys, invalidate]);

  useFrame(() => {
    if (!controls) return;
    const pending = unframed.current;
    if (pending && !moved.current && layoutsOf(pending)) {
      unframed.current = null;
      fly(poseFor(pending).pose, FLY_MS / 2);
    }
    const f = flight.current;
    if (f) {
      f.frames++;
      const t = Math.min(1, (performance.now() - f.start) / f.ms, f.frames / MIN_FLIGHT_FRAMES);
      camera.position.lerpVectors(f.from.position, f.to.position, ease(t));
      controls.target.lerpVectors(f.from.target, f.to.target, ease(t));
      camera.lookAt(controls.target);
      if (t < 1) invalidate();
      else {
        flight.current = null;
        if (element.current) element.current.dataset.flying = '0';
      }
    }
    if (held.current.size) {
      const now = performance.now();
      const dt = Math.min(0.1, (now - lastFrame.current) / 1000);
      lastFrame.current = now;
      const { forward, right, move } = scratch;
      forward.subVectors(controls.target, camera.position);
      // Speed scales with the distance to what is looked at: fine near a head, fast across the matrix.
      const speed = Math.max(0.6, forward.length()) * dt;
      forward.normalize();
      right.crossVectors(forward, camera.up).normalize();
      move.set(0, 0, 0);
      const k = held.current;
      if (k.has('w')) move.add(forward);
      if (k.has('s')) move.sub(forward);
      if (k.has('d')) move.add(right);
      if (k.has('a')) move.sub(right);
      if (k.has('e')) move.add(camera.up);
      if (k.has('q')) move.sub(camera.up);
      move.multiplyScalar(speed);
      camera.position.add(move);
      controls.target.add(move);
      invalidate();
    }
  }, CAMERA_FRAME_PRIORITY);
  return null;
}
