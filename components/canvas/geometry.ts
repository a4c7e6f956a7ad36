// Where each head sits in the matrix scene and how a head's layout becomes vertices of the
// one shared point geometry ([cell][point], cell = layer * heads + head).
import * as THREE from 'three';
import type { HeadFrame } from '@/lib/views/frame';

/** Distance between cell centres; a head's layout fits in the unit ball. */
export const CELL_SPACING = 2.4;
/** Radius of a head's view to keep in frame when flown into it: the unit ball and a margin. */
const HEAD_VIEW_RADIUS = 1.12;
/** How far the bottom row's labels reach below its cells (labels sit 1.15 under a cell's centre). */
const LABEL_DROP = 0.35;

export interface MatrixShape {
  layers: number;
  heads: number;
  /** Points per head: N queries then N keys. */
  points: number;
}

export function cellCenter({ layers, heads }: Pick<MatrixShape, 'layers' | 'heads'>, l: number, h: number): [number, number] {
  return [(h - (heads - 1) / 2) * CELL_SPACING, ((layers - 1) / 2 - l) * CELL_SPACING];
}

/** The cell under a point of the z = 0 plane, or null between/outside cells. */
export function cellAt(shape: Pick<MatrixShape, 'layers' | 'heads'>, x: number, y: number): { layer: number; head: number } | null {
  const head = Math.round(x / CELL_SPACING + (shape.heads - 1) / 2);
  const layer = Math.round((shape.layers - 1) / 2 - y / CELL_SPACING);
  if (head < 0 || head >= shape.heads || layer < 0 || layer >= shape.layers) return null;
  const [cx, cy] = cellCenter(shape, layer, head);
  return Math.hypot(x - cx, y - cy) <= CELL_SPACING / 2 ? { layer, head } : null;
}

/** The box the whole matrix fills (cells and the labels under the bottom row), as a frame. */
export function matrixFrame({ layers, heads }: Pick<MatrixShape, 'layers' | 'heads'>): HeadFrame {
  return { x: 0, y: -LABEL_DROP / 2, halfWidth: (heads * CELL_SPACING) / 2, halfHeight: (layers * CELL_SPACING) / 2 + LABEL_DROP / 2, front: 1 };
}

/** Before its layout arrives, a head is framed as the unit ball it will fill. */
export const UNIT_BALL_FRAME: HeadFrame = { x: 0, y: 0, halfWidth: HEAD_VIEW_RADIUS, halfHeight: HEAD_VIEW_RADIUS, front: 0 };

export function createMatrixGeometry({ layers, heads, points }: MatrixShape): THREE.BufferGeometry {
  const g = new THREE.BufferGeometry();
  const total = layers * heads * points;
  const position = new THREE.BufferAttribute(new Float32Array(total * 3), 3);
  position.setUsage(THREE.DynamicDrawUsage);
  const index = new THREE.BufferAttribute(new Float32Array(total), 1);
  for (let c = 0; c < layers * heads; c++) for (let i = 0; i < points; i++) index.array[c * points + i] = i;
  const ready = new THREE.BufferAttribute(new Float32Array(total), 1);
  ready.setUsage(THREE.DynamicDrawUsage);
  const norm = new THREE.BufferAttribute(new Float32Array(total), 1);
  g.setAttribute('position', position);
  g.setAttribute('pointIndex', index);
  g.setAttribute('ready', ready);
  g.setAttribute('normValue', norm);
  g.boundingSphere = new THREE.Sphere(new THREE.Vector3(), Math.hypot(heads, layers) * CELL_SPACING);
  return g;
}

/** Writes one head's layout into its range of the geometry and marks only that range for upload. */
export function writeHeadLayout(g: THREE.BufferGeometry, shape: MatrixShape, l: number, h: number, coords: Float32Array, dims: 2 | 3): void {
  const position = g.getAttribute('position') as THREE.BufferAttribute;
  const ready = g.getAttribute('ready') as THREE.BufferAttribute;
  const [cx, cy] = cellCenter(shape, l, h);
  const base = (l * shape.heads + h) * shape.points;
  const pos = position.array as Float32Array;
  for (let i = 0; i < shape.points; i++) {
    pos[(base + i) * 3] = cx + coords[i * dims];
    pos[(base + i) * 3 + 1] = cy + coords[i * dims + 1];
    pos[(base + i) * 3 + 2] = dims === 3 ? coords[i * dims + 2] : 0;
    ready.array[base + i] = 1;
  }
  position.addUpdateRange(base * 3, shape.points * 3);
  ready.addUpdateRange(base, shape.points);
  position.needsUpdate = true;
  ready.needsUpdate = true;
}
