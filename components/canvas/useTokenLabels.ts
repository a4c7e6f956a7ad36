// Token labels in the head view, placed so they never overlap: recomputed only when the camera
// or what is labelled changes, written straight into a layer of DOM spans (textContent, so a
// token's text is never parsed as markup).
import { useFrame } from '@react-three/fiber';
import { useRef } from 'react';
import * as THREE from 'three';
import { placeLabels } from '@/lib/views/labels';
import { cellCenter } from './geometry';
import type { QKSceneProps } from './QKScene';

/** Most token labels drawn at once; more than this stops being readable. */
const MAX_LABELS = 70;
/** Label candidates projected per update, taken from the front of the priority order. */
const MAX_LABEL_CANDIDATES = 4000;

export function useTokenLabels(camera: THREE.PerspectiveCamera, container: React.RefObject<HTMLDivElement | null>, latest: React.RefObject<QKSceneProps>): void {
  const lastView = useRef(new THREE.Matrix4());
  const labelInputs = useRef<unknown[]>([]);
  useFrame(() => {
    const layer = container.current;
    if (!layer) return;
    const p = latest.current;
    const inputs = [p.focus, p.version, p.labelOrder, p.dims];
    camera.updateMatrixWorld();
    const view = camera.matrixWorldInverse;
    if (view.equals(lastView.current) && inputs.every((v, i) => v === labelInputs.current[i])) return;
    lastView.current.copy(view);
    labelInputs.current = inputs;
    const coords = p.focus ? p.layout(p.focus.layer, p.focus.head) : null;
    if (!p.focus || !coords) {
      layer.replaceChildren();
      return;
    }
    const { width, height } = layer.getBoundingClientRect();
    const [cx, cy] = cellCenter(p.shape, p.focus.layer, p.focus.head);
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
    layer.replaceChildren(
      ...placed.map((i) => {
        const span = document.createElement('span');
        const point = candidates[i];
        span.textContent = p.labelText(point);
        span.className = point < p.shape.points / 2 ? 'token-label query' : 'token-label key';
        span.style.transform = `translate(${Math.round(boxes[i]!.x)}px, ${Math.round(boxes[i]!.y)}px)`;
        return span;
      }),
    );
  }, 2);

}
