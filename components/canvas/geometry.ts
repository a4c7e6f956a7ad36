// Where each head sits in the matrix scene, and how head layouts become vertices: the
// overview geometry holds every head in blocks ([block][cell][slot within the block]) so that
// the first slots of every cell — a representative sample, lib/views/lod.ts — are one
// contiguous range a frame can draw alone; the detail geometry holds the few heads (or
// points) drawn in full on top of it.
import * as THREE from 'three';
import type { HeadFrame } from '@/lib/views/frame';
import { BLOCK, overviewPoints } from '@/lib/views/lod';

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
  /** Slots per cell the matrix overview holds: the first of each head's sample order (every point of a small run). */
  overviewPoints: number;
}

/** The matrix's shape for a run: its points per head, and the overview's slots per cell. */
export function matrixShape(layers: number, heads: number, tokens: number): MatrixShape {
  return { layers, heads, points: 2 * tokens, overviewPoints: overviewPoints(layers, heads, tokens) };
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

/** Sizes of the overview's blocked layout. */
export function overviewLayout({ layers, heads, overviewPoints }: MatrixShape) {
  const cells = layers * heads;
  const blocks = Math.ceil(overviewPoints / BLOCK);
  return { cells, blocks, vertices: blocks * cells * BLOCK };
}

/** The overview vertex of slot v of cell c. */
export const overviewVertex = (cells: number, c: number, v: number) => (Math.floor(v / BLOCK) * cells + c) * BLOCK + (v % BLOCK);

/** Vertices to draw for the first `perCell` slots of every cell: whole blocks, from the start. */
export const overviewCount = (cells: number, perCell: number) => Math.ceil(perCell / BLOCK) * cells * BLOCK;

function pointAttributes(g: THREE.BufferGeometry, vertices: number): void {
  const dynamic = (itemSize: number) => {
    const a = new THREE.BufferAttribute(new Float32Array(vertices * itemSize), itemSize);
    a.setUsage(THREE.DynamicDrawUsage);
    return a;
  };
  g.setAttribute('position', dynamic(3));
  g.setAttribute('pointIndex', dynamic(1));
  g.setAttribute('ready', dynamic(1));
  g.setAttribute('normValue', dynamic(1));
}

/** Every head's points, slot v of cell c holding point order[v] of that head. */
export function createOverviewGeometry(shape: MatrixShape, order: Int32Array): THREE.BufferGeometry {
  const { cells, vertices } = overviewLayout(shape);
  const g = new THREE.BufferGeometry();
  pointAttributes(g, vertices);
  const pointIndex = g.getAttribute('pointIndex').array as Float32Array;
  for (let c = 0; c < cells; c++) for (let v = 0; v < shape.overviewPoints; v++) pointIndex[overviewVertex(cells, c, v)] = order[v];
  g.setDrawRange(0, 0);
  g.boundingSphere = new THREE.Sphere(new THREE.Vector3(), Math.hypot(shape.heads, shape.layers) * CELL_SPACING);
  return g;
}

/** A point geometry for `vertices` points written one by one (writeDetailPoint). */
export function createDetailGeometry(vertices: number): THREE.BufferGeometry {
  const g = new THREE.BufferGeometry();
  pointAttributes(g, Math.max(1, vertices));
  g.setDrawRange(0, 0);
  g.boundingSphere = new THREE.Sphere(new THREE.Vector3(), 1e6);
  return g;
}

/**
 * Writes one head's layout into its overview slots (its first overviewPoints in sample order), a
 * ranged upload per block: from its full layout ([point][dims], through the sample order), or
 * from a sampled overview ([slot][dims], slot by slot).
 */
export function writeHeadLayout(
  g: THREE.BufferGeometry,
  shape: MatrixShape,
  order: Int32Array,
  l: number,
  h: number,
  coords: Float32Array,
  dims: 2 | 3,
  sampled = false,
): void {
  const { cells, blocks } = overviewLayout(shape);
  const position = g.getAttribute('position') as THREE.BufferAttribute;
  const ready = g.getAttribute('ready') as THREE.BufferAttribute;
  const [cx, cy] = cellCenter(shape, l, h);
  const c = l * shape.heads + h;
  const pos = position.array as Float32Array;
  for (let b = 0; b < blocks; b++) {
    const first = (b * cells + c) * BLOCK;
    const count = Math.min(BLOCK, shape.overviewPoints - b * BLOCK);
    for (let i = 0; i < count; i++) {
      const p = sampled ? b * BLOCK + i : order[b * BLOCK + i];
      const vertex = first + i;
      pos[vertex * 3] = cx + coords[p * dims];
      pos[vertex * 3 + 1] = cy + coords[p * dims + 1];
      pos[vertex * 3 + 2] = dims === 3 ? coords[p * dims + 2] : 0;
      ready.array[vertex] = 1;
    }
    position.addUpdateRange(first * 3, count * 3);
    ready.addUpdateRange(first, count);
  }
  position.needsUpdate = true;
  ready.needsUpdate = true;
}

/** Writes point p of cell (l, h), whose layout is `coords`, as vertex `at` of a detail geometry. */
export function writeDetailPoint(
  g: THREE.BufferGeometry,
  shape: MatrixShape,
  at: number,
  l: number,
  h: number,
  p: number,
  coords: Float32Array,
  dims: 2 | 3,
  norm: number,
  /** Where point p's coordinates are in `coords`: p itself, or its slot in a sampled overview. */
  slot = p,
): void {
  const [cx, cy] = cellCenter(shape, l, h);
  const pos = g.getAttribute('position').array as Float32Array;
  pos[at * 3] = cx + coords[slot * dims];
  pos[at * 3 + 1] = cy + coords[slot * dims + 1];
  pos[at * 3 + 2] = dims === 3 ? coords[slot * dims + 2] : 0;
  (g.getAttribute('pointIndex').array as Float32Array)[at] = p;
  (g.getAttribute('ready').array as Float32Array)[at] = 1;
  (g.getAttribute('normValue').array as Float32Array)[at] = norm;
}
