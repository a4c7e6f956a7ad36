'use client';
// Moves the camera: a smooth flight to the matrix overview or into the focused head (and
// back there on reset), and free flight with W/A/S/D (forward, left, back, right) and
// Q/E (down, up) on top of the orbit controls.
import { useFrame, useThree } from '@react-three/fiber';
import { useEffect, useRef } from 'react';
import * as THREE from 'three';
import { type MatrixShape, cellCenter, headDistance, matrixDistance } from './geometry';

/** Length of a flight between views; long enough to follow, short enough not to wait for. */
const FLY_MS = 650;
const FLY_KEYS = new Set(['w', 'a', 's', 'd', 'q', 'e']);
/**
 * Camera moves run before everything else in a frame (drei's OrbitControls update at −1, its
 * Html labels at 0), so labels are placed for the camera the frame is drawn with. Otherwise they
 * lag one frame behind — and when a flight's last frame is also the last one drawn, they stay
 * where the flight was, not where it ended.
 */
export const CAMERA_FRAME_PRIORITY = -2;

/** What the rig needs of drei's OrbitControls. */
export interface OrbitLike {
  target: THREE.Vector3;
  enableRotate: boolean;
}

interface Pose {
  position: THREE.Vector3;
  target: THREE.Vector3;
}

const ease = (t: number) => (t < 0.5 ? 4 * t * t * t : 1 - (-2 * t + 2) ** 3 / 2);
const scratch = { forward: new THREE.Vector3(), right: new THREE.Vector3(), move: new THREE.Vector3() };

export function CameraRig({ shape, focus, resetToken, element, initialPose }: {
  shape: MatrixShape;
  focus: { layer: number; head: number } | null;
  resetToken: number;
  element: React.RefObject<HTMLElement | null>;
  /** Where the first view should be (a shared link's camera) instead of the default. */
  initialPose?: number[] | null;
}) {
  const camera = useThree((s) => s.camera) as THREE.PerspectiveCamera;
  const controls = useThree((s) => s.controls) as unknown as OrbitLike | null;
  const size = useThree((s) => s.size);
  const invalidate = useThree((s) => s.invalidate);
  const flight = useRef<{ from: Pose; to: Pose; start: number } | null>(null);
  const held = useRef(new Set<string>());
  const lastFrame = useRef(0);
  const placed = useRef(false);

  useEffect(() => {
    if (!controls) return;
    let to: Pose;
    const aspect = size.width / Math.max(1, size.height);
    if (focus) {
      const [x, y] = cellCenter(shape, focus.layer, focus.head);
      to = { position: new THREE.Vector3(x, y, headDistance(camera.fov, aspect)), target: new THREE.Vector3(x, y, 0) };
    } else {
      to = { position: new THREE.Vector3(0, 0, matrixDistance(shape, camera.fov, aspect)), target: new THREE.Vector3() };
    }
    if (!placed.current) {
      // The first view appears in place; later changes fly.
      placed.current = true;
      if (initialPose?.length === 6) {
        to.position.fromArray(initialPose, 0);
        to.target.fromArray(initialPose, 3);
      }
      camera.position.copy(to.position);
      controls.target.copy(to.target);
      camera.lookAt(to.target);
      invalidate();
      return;
    }
    flight.current = { from: { position: camera.position.clone(), target: controls.target.clone() }, to, start: performance.now() };
    invalidate();
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [focus?.layer, focus?.head, resetToken, controls, shape.layers, shape.heads]);

  useEffect(() => {
    const el = element.current;
    if (!el) return;
    const down = (e: KeyboardEvent) => {
      const k = e.key.toLowerCase();
      if (!FLY_KEYS.has(k) || e.ctrlKey || e.metaKey || e.altKey) return;
      if ((e.target as HTMLElement).closest('input, select, textarea')) return;
      held.current.add(k);
      lastFrame.current = performance.now();
      invalidate();
    };
    const up = (e: KeyboardEvent) => held.current.delete(e.key.toLowerCase());
    const clear = () => held.current.clear();
    el.addEventListener('keydown', down);
    el.addEventListener('keyup', up);
    el.addEventListener('blur', clear);
    return () => {
      el.removeEventListener('keydown', down);
      el.removeEventListener('keyup', up);
      el.removeEventListener('blur', clear);
    };
  }, [element, invalidate]);

  useFrame(() => {
    if (!controls) return;
    const f = flight.current;
    if (f) {
      const t = Math.min(1, (performance.now() - f.start) / FLY_MS);
      camera.position.lerpVectors(f.from.position, f.to.position, ease(t));
      controls.target.lerpVectors(f.from.target, f.to.target, ease(t));
      camera.lookAt(controls.target);
      if (t < 1) invalidate();
      else flight.current = null;
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
      const keys = held.current;
      if (keys.has('w')) move.add(forward);
      if (keys.has('s')) move.sub(forward);
      if (keys.has('d')) move.add(right);
      if (keys.has('a')) move.sub(right);
      if (keys.has('e')) move.add(camera.up);
      if (keys.has('q')) move.sub(camera.up);
      move.multiplyScalar(speed);
      camera.position.add(move);
      controls.target.add(move);
      invalidate();
    }
  }, CAMERA_FRAME_PRIORITY);
  return null;
}
