// "L3 H7" under every cell of the matrix, each on its own tile: one layer of DOM elements made
// once per matrix and moved in the frame loop only when the camera moves (not a React element
// per cell). Labels shrink, then hide, when cells are drawn too small to hold them (hovering a
// cell still names it).
import { useFrame } from '@react-three/fiber';
import { useEffect, useRef } from 'react';
import * as THREE from 'three';
import { type MatrixShape, cellCenter } from './geometry';

/** Labels sit this far (in cell units) under their cell's centre. */
export const LABEL_DROP = 1.15;
/** Cell label sizes, by how many pixels apart neighbouring cells are drawn: full, compact, or none. */
const LABEL_FULL_PX = 48;
const LABEL_COMPACT_PX = 38;
const scratch = new THREE.Vector3();

export function useCellLabels(camera: THREE.Camera, container: React.RefObject<HTMLDivElement | null>, shape: MatrixShape, visible: boolean): void {
  const labels = useRef<HTMLElement[]>([]);
  const last = useRef({ view: new THREE.Matrix4(), projection: new THREE.Matrix4(), visible: !visible, width: 0, height: 0 });

  useEffect(() => {
    const layer = container.current;
    if (!layer) return;
    labels.current = Array.from({ length: shape.layers * shape.heads }, (_, c) => {
      const label = document.createElement('div');
      label.className = 'cell-label';
      const text = document.createElement('span');
      text.textContent = `L${Math.floor(c / shape.heads)} H${c % shape.heads}`;
      label.append(text);
      return label;
    });
    layer.replaceChildren(...labels.current);
    last.current.visible = !visible;
    return () => layer.replaceChildren();
    // New labels only for a new matrix; visibility is applied in the frame loop.
  }, [container, shape]);

  useFrame(() => {
    const layer = container.current;
    if (!layer) return;
    camera.updateMatrixWorld();
    const { width, height } = layer.getBoundingClientRect();
    const l = last.current;
    if (l.visible === visible && l.view.equals(camera.matrixWorldInverse) && l.projection.equals(camera.projectionMatrix) && l.width === width && l.height === height) return;
    l.view.copy(camera.matrixWorldInverse);
    l.projection.copy(camera.projectionMatrix);
    l.visible = visible;
    l.width = width;
    l.height = height;
    layer.hidden = !visible;
    if (!visible) return;
    const at = (layerIndex: number, head: number) => {
      const [x, y] = cellCenter(shape, layerIndex, head);
      scratch.set(x, y - LABEL_DROP, 0).project(camera);
      return { x: ((scratch.x + 1) / 2) * width, y: ((1 - scratch.y) / 2) * height, behind: scratch.z > 1 };
    };
    const spacing = shape.heads > 1 ? Math.abs(at(0, 1).x - at(0, 0).x) : LABEL_FULL_PX;
    layer.dataset.labels = spacing >= LABEL_FULL_PX ? 'full' : spacing >= LABEL_COMPACT_PX ? 'compact' : 'none';
    labels.current.forEach((label, c) => {
      const p = at(Math.floor(c / shape.heads), c % shape.heads);
      label.style.transform = `translate(${p.x.toFixed(1)}px, ${p.y.toFixed(1)}px) translate(-50%, -50%)`;
      label.style.visibility = p.behind ? 'hidden' : '';
    });
  }, 2);
}
