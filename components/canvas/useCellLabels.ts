// "L3 H7" under every cell of the matrix, each on its own tile: one layer of DOM elements made
// once per matrix and moved in the frame loop only when the camera moves (not a React element
// per cell). Labels shrink when cells are drawn small; when cells are too small to hold them
// (a 30 × 9 or 24 × 14 matrix in a laptop window) the rows and columns are labelled at the
// matrix's edges instead (every k-th, as room allows), and hovering a cell still names it.
import { useFrame } from '@react-three/fiber';
import { useEffect, useRef } from 'react';
import * as THREE from 'three';
import { type MatrixShape, cellCenter } from './geometry';

/** Labels sit this far (in cell units) under their cell's centre. */
export const LABEL_DROP = 1.15;
/** Cell label sizes, by how many pixels apart neighbouring cells are drawn: full, compact, or none. */
const LABEL_FULL_PX = 48;
const LABEL_COMPACT_PX = 38;
/** Axis labels need this many pixels between the rows (columns) they label; in between, every k-th is shown. */
const AXIS_ROW_PX = 13;
const AXIS_COLUMN_PX = 24;
/** Axis labels sit this far (in cell units) outside the first column / above the first row. */
const AXIS_OFFSET = 1.1;
const scratch = new THREE.Vector3();

export function useCellLabels(camera: THREE.Camera, container: React.RefObject<HTMLDivElement | null>, shape: MatrixShape, visible: boolean): void {
  const labels = useRef<HTMLElement[]>([]);
  const axes = useRef<{ rows: HTMLElement[]; columns: HTMLElement[] }>({ rows: [], columns: [] });
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
    const axis = (kind: 'layer' | 'head', i: number) => {
      const label = document.createElement('div');
      label.className = `axis-label axis-${kind}`;
      label.dataset[kind] = String(i);
      label.textContent = kind === 'layer' ? `L${i}` : `H${i}`;
      return label;
    };
    axes.current = {
      rows: Array.from({ length: shape.layers }, (_, l) => axis('layer', l)),
      columns: Array.from({ length: shape.heads }, (_, h) => axis('head', h)),
    };
    layer.replaceChildren(...labels.current, ...axes.current.rows, ...axes.current.columns);
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
    if (
      l.visible === visible &&
      l.view.equals(camera.matrixWorldInverse) &&
      l.projection.equals(camera.projectionMatrix) &&
      l.width === width &&
      l.height === height
    )
      return;
    l.view.copy(camera.matrixWorldInverse);
    l.projection.copy(camera.projectionMatrix);
    l.visible = visible;
    l.width = width;
    l.height = height;
    layer.hidden = !visible;
    if (!visible) return;
    const at = (layerIndex: number, head: number, dx = 0, dy = -LABEL_DROP) => {
      const [x, y] = cellCenter(shape, layerIndex, head);
      scratch.set(x + dx, y + dy, 0).project(camera);
      return { x: ((scratch.x + 1) / 2) * width, y: ((1 - scratch.y) / 2) * height, behind: scratch.z > 1 };
    };
    const place = (label: HTMLElement, p: ReturnType<typeof at>, shown = true, anchor = 'translate(-50%, -50%)') => {
      label.style.transform = `translate(${p.x.toFixed(1)}px, ${p.y.toFixed(1)}px) ${anchor}`;
      label.style.visibility = p.behind || !shown ? 'hidden' : '';
    };
    const spacing = shape.heads > 1 ? Math.abs(at(0, 1).x - at(0, 0).x) : shape.layers > 1 ? Math.abs(at(1, 0).y - at(0, 0).y) : LABEL_FULL_PX;
    const mode = spacing >= LABEL_FULL_PX ? 'full' : spacing >= LABEL_COMPACT_PX ? 'compact' : 'none';
    layer.dataset.labels = mode;
    if (mode !== 'none') {
      labels.current.forEach((label, c) => place(label, at(Math.floor(c / shape.heads), c % shape.heads)));
      return;
    }
    const everyRow = Math.max(1, Math.ceil(AXIS_ROW_PX / spacing));
    const everyColumn = Math.max(1, Math.ceil(AXIS_COLUMN_PX / spacing));
    // Right of the row labels is the first column's edge; below the column labels, the first row's.
    axes.current.rows.forEach((label, l) => place(label, at(l, 0, -AXIS_OFFSET, 0), l % everyRow === 0, 'translate(calc(-100% - 3px), -50%)'));
    axes.current.columns.forEach((label, h) => place(label, at(0, h, 0, AXIS_OFFSET), h % everyColumn === 0, 'translate(-50%, calc(-100% - 2px))'));
  }, 2);
}
