// Token labels in the head view, placed so they never overlap: recomputed only when the camera
// or what is labelled changes, written straight into a layer of DOM spans (textContent, so a
// token's text is never parsed as markup), each on a dark backing so it reads on bright dots.
import { useFrame } from '@react-three/fiber';
import { useRef } from 'react';
import * as THREE from 'three';
import { placeLabels } from '@/lib/views/labels';
import type { Cell } from '../state/viewStore';
import { type MatrixShape, cellCenter } from './geometry';
import type { QKRenderer } from './QKRenderer';

/** Most token labels drawn at once; more than this stops being readable. */
const MAX_LABELS = 70;
/** Label candidates projected per update, taken from the front of the priority order. */
const MAX_LABEL_CANDIDATES = 4000;
/** Label box size estimate (11 px monospace): pixels per character, padding and line height. */
const CHAR_WIDTH = 6.7;
const LABEL_PADDING = 10;
const LABEL_HEIGHT = 16;

export interface LabelSource {
  focus: Cell | null;
  dims: 2 | 3;
  labelOrder: Int32Array;
  labelText: (point: number) => string;
}

export function useTokenLabels(
  camera: THREE.Camera,
  container: React.RefObject<HTMLDivElement | null>,
  renderer: QKRenderer,
  shape: MatrixShape,
  latest: React.RefObject<LabelSource>,
): void {
  const lastView = useRef(new THREE.Matrix4());
  const lastInputs = useRef<unknown[]>([]);
  useFrame(() => {
    const layer = container.current;
    if (!layer) return;
    const p = latest.current;
    const coords = p.focus ? renderer.coordsOf(p.focus) : null;
    const inputs = [p.focus, coords, p.labelOrder, p.dims];
    camera.updateMatrixWorld();
    const view = camera.matrixWorldInverse;
    if (view.equals(lastView.current) && inputs.every((v, i) => v === lastInputs.current[i])) return;
    lastView.current.copy(view);
    lastInputs.current = inputs;
    if (!p.focus || !coords) {
      layer.replaceChildren();
      return;
    }
    const { width, height } = layer.getBoundingClientRect();
    const [cx, cy] = cellCenter(shape, p.focus.layer, p.focus.head);
    const v = new THREE.Vector3();
    const candidates = Array.from(p.labelOrder.subarray(0, MAX_LABEL_CANDIDATES));
    const boxes = candidates.map((point) => {
      v.set(cx + coords[point * p.dims], cy + coords[point * p.dims + 1], p.dims === 3 ? coords[point * p.dims + 2] : 0).project(camera);
      if (v.z < -1 || v.z > 1) return null;
      const x = ((v.x + 1) / 2) * width;
      const y = ((1 - v.y) / 2) * height;
      return { x: x + 5, y: y - 9, width: CHAR_WIDTH * p.labelText(point).length + LABEL_PADDING, height: LABEL_HEIGHT };
    });
    const placed = placeLabels(boxes, candidates.keys(), { width, height }, MAX_LABELS);
    layer.replaceChildren(
      ...placed.map((i) => {
        const span = document.createElement('span');
        const point = candidates[i];
        span.textContent = p.labelText(point);
        span.className = point < shape.points / 2 ? 'token-label query' : 'token-label key';
        span.style.transform = `translate(${Math.round(boxes[i]!.x)}px, ${Math.round(boxes[i]!.y)}px)`;
        return span;
      }),
    );
  }, 2);
}
