// Pointer and keys on a view: hovering names the head (matrix) or picks the point on the GPU
// (head view) for the tooltip; a click (not a drag) flies into a head or selects a point;
// arrows step to the adjacent head and Escape returns to the matrix.
import { useEffect, useMemo } from 'react';
import * as THREE from 'three';
import { cellAt } from './geometry';
import { PointPicker } from './picking';
import type { QKSceneProps } from './QKScene';

/** A pointer that moves less than this between press and release clicked rather than dragged. */
const CLICK_SLOP = 5;

interface PointerOptions {
  gl: THREE.WebGLRenderer;
  camera: THREE.PerspectiveCamera;
  pickPoints: THREE.Points;
  tooltip: React.RefObject<HTMLDivElement | null>;
  wrapper: React.RefObject<HTMLDivElement | null>;
  /** The scene's latest props, read inside event handlers. */
  latest: React.RefObject<QKSceneProps>;
}

export function usePointer({ gl, camera, pickPoints, tooltip: tooltipRef, wrapper, latest }: PointerOptions): void {
  const picker = useMemo(() => new PointPicker(), []);
  useEffect(() => () => picker.dispose(), [picker]);
  useEffect(() => {
    const canvas = gl.domElement;
    const tooltip = tooltipRef.current;
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
      return raycaster.ray.intersectPlane(plane, hit) ? cellAt(latest.current.shape, hit.x, hit.y) : null;
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
  }, [gl, camera, picker, pickPoints, tooltipRef, latest]);

  // Keys on the focused view: arrows step to the adjacent head, Escape returns to the matrix.
  useEffect(() => {
    const el = wrapper.current;
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
  }, [wrapper, latest]);

}
