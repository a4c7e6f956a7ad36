// Pointer on a view: hovering names the head (matrix) or picks the point on the GPU (head
// view) for the tooltip; a click (not a drag) flies into a head or selects a point. Both are
// resolved against the camera of the frame on screen when the button went down — during a
// flight the camera keeps moving, and the head under the pointer is the one that was seen.
import { useEffect } from 'react';
import * as THREE from 'three';
import { flyTo, setView, viewStore } from '../state/viewStore';
import { type MatrixShape, cellAt } from './geometry';
import type { QKRenderer } from './QKRenderer';

/** A pointer that moves less than this between press and release clicked rather than dragged. */
const CLICK_SLOP = 5;

interface PointerOptions {
  gl: THREE.WebGLRenderer;
  renderer: QKRenderer;
  /** A copy of the camera as of the last frame drawn. */
  shown: THREE.PerspectiveCamera;
  shape: MatrixShape;
  tooltip: React.RefObject<HTMLDivElement | null>;
  describe: React.RefObject<(point: number) => string[]>;
}

export function usePointer({ gl, renderer, shown, shape, tooltip: tooltipRef, describe }: PointerOptions): void {
  useEffect(() => {
    const canvas = gl.domElement;
    const tooltip = tooltipRef.current;
    const raycaster = new THREE.Raycaster();
    const plane = new THREE.Plane(new THREE.Vector3(0, 0, 1), 0);
    const hit = new THREE.Vector3();
    let pressed: { clientX: number; clientY: number; x: number; y: number; camera: THREE.PerspectiveCamera } | null = null;
    let frame = 0;
    const local = (e: PointerEvent) => {
      const r = canvas.getBoundingClientRect();
      return { x: e.clientX - r.left, y: e.clientY - r.top, width: r.width, height: r.height };
    };
    const cellUnder = (camera: THREE.PerspectiveCamera, x: number, y: number) => {
      const r = canvas.getBoundingClientRect();
      raycaster.setFromCamera(new THREE.Vector2((x / r.width) * 2 - 1, 1 - (y / r.height) * 2), camera);
      return raycaster.ray.intersectPlane(plane, hit) ? cellAt(shape, hit.x, hit.y) : null;
    };
    const show = (lines: string[] | null, x = 0, y = 0) => {
      if (!tooltip) return;
      if (!lines) {
        tooltip.hidden = true;
        tooltip.replaceChildren();
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
      // Kept inside the view: flipped to the pointer's other side near the right and bottom edges.
      const { width, height } = canvas.getBoundingClientRect();
      const tx = x + 14 + tooltip.offsetWidth > width ? x - 14 - tooltip.offsetWidth : x + 14;
      const ty = y + 14 + tooltip.offsetHeight > height ? y - 14 - tooltip.offsetHeight : y + 14;
      tooltip.style.transform = `translate(${Math.round(Math.max(0, tx))}px, ${Math.round(Math.max(0, ty))}px)`;
    };
    const hover = (cell: { layer: number; head: number } | null) => {
      const now = viewStore.getState().hovered;
      if (now?.layer !== cell?.layer || now?.head !== cell?.head) setView({ hovered: cell });
    };
    const move = (e: PointerEvent) => {
      if (e.buttons) return show(null);
      const { x, y } = local(e);
      cancelAnimationFrame(frame);
      // At most one pick per displayed frame, however fast the pointer moves.
      frame = requestAnimationFrame(() => {
        if (!viewStore.getState().focus) {
          const cell = cellUnder(shown, x, y);
          canvas.style.cursor = cell ? 'pointer' : 'grab';
          hover(cell);
          show(cell ? [`L${cell.layer} H${cell.head}`, 'click to fly into this head'] : null, x, y);
          return;
        }
        const point = renderer.pick(gl, shown, x, y);
        canvas.style.cursor = point === null ? 'grab' : 'pointer';
        show(point === null ? null : describe.current(point), x, y);
      });
    };
    const down = (e: PointerEvent) => {
      const { x, y } = local(e);
      pressed = { clientX: e.clientX, clientY: e.clientY, x, y, camera: shown.clone() };
    };
    const up = (e: PointerEvent) => {
      const p = pressed;
      pressed = null;
      if (!p || Math.hypot(e.clientX - p.clientX, e.clientY - p.clientY) > CLICK_SLOP) return;
      if (!viewStore.getState().focus) {
        const cell = cellUnder(p.camera, p.x, p.y);
        if (cell) {
          show(null);
          flyTo(cell);
        }
        return;
      }
      setView({ selected: renderer.pick(gl, p.camera, p.x, p.y) });
    };
    const leave = () => {
      show(null);
      hover(null);
    };
    canvas.addEventListener('pointermove', move);
    canvas.addEventListener('pointerdown', down);
    canvas.addEventListener('pointerup', up);
    canvas.addEventListener('pointerleave', leave);
    // A key can change what is under the pointer (another head, the heads table): the tooltip goes.
    window.addEventListener('keydown', leave);
    return () => {
      window.removeEventListener('keydown', leave);
      cancelAnimationFrame(frame);
      canvas.removeEventListener('pointermove', move);
      canvas.removeEventListener('pointerdown', down);
      canvas.removeEventListener('pointerup', up);
      canvas.removeEventListener('pointerleave', leave);
    };
  }, [gl, renderer, shown, shape, tooltipRef, describe]);
}
