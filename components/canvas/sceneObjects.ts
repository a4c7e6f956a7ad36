// The scene's secondary objects, each one geometry and one draw call: the per-head overlay
// quads behind the matrix cells and the attention link lines; and a counter of GPU uploads
// that lets the page show nothing is re-sent per frame.
import * as THREE from 'three';
import type { Links } from '@/lib/views/links';
import { CELL_SPACING, type MatrixShape, cellCenter } from './geometry';

/** Link capacity: a 512-token sentence with the largest k the controls allow. */
export const MAX_LINK_K = 10;
const MAX_LINKS = 512 * MAX_LINK_K;
const LINK_COLOUR = [0xff / 255, 0xc3 / 255, 0x00 / 255];

/** Counts GPU uploads of the scene's buffers and textures, to show nothing is re-sent per frame. */
export class UploadCounter {
  count = 0;
  watch(attribute: THREE.BufferAttribute): void {
    attribute.onUpload(() => this.count++);
  }
}

const linkVertex = /* glsl */ `
  attribute float weight;
  varying float vWeight;
  void main() {
    vWeight = weight;
    gl_Position = projectionMatrix * modelViewMatrix * vec4(position, 1.0);
  }
`;
const overlayVertex = /* glsl */ `
  attribute vec3 tint;
  varying vec3 vTint;
  void main() {
    vTint = tint;
    gl_Position = projectionMatrix * modelViewMatrix * vec4(position, 1.0);
  }
`;
const overlayFragment = /* glsl */ `
  varying vec3 vTint;
  void main() { gl_FragColor = vec4(vTint, 0.55); }
`;

/** One mesh of a quad per head, tinted by a per-head figure: one draw call for the overlay. */
export function createOverlay(shape: MatrixShape): THREE.Mesh {
  const cells = shape.layers * shape.heads;
  const position = new Float32Array(cells * 4 * 3);
  const index: number[] = [];
  const half = CELL_SPACING * 0.48;
  for (let c = 0; c < cells; c++) {
    const [x, y] = cellCenter(shape, Math.floor(c / shape.heads), c % shape.heads);
    // Behind the cloud, which fills the unit ball around z = 0.
    [
      [-1, -1],
      [1, -1],
      [1, 1],
      [-1, 1],
    ].forEach(([dx, dy], v) => position.set([x + dx * half, y + dy * half, -1.05], (c * 4 + v) * 3));
    index.push(c * 4, c * 4 + 1, c * 4 + 2, c * 4, c * 4 + 2, c * 4 + 3);
  }
  const g = new THREE.BufferGeometry();
  g.setAttribute('position', new THREE.BufferAttribute(position, 3));
  g.setAttribute('tint', new THREE.BufferAttribute(new Float32Array(cells * 4 * 3), 3));
  g.setIndex(index);
  const material = new THREE.ShaderMaterial({ vertexShader: overlayVertex, fragmentShader: overlayFragment, transparent: true, depthWrite: false });
  const mesh = new THREE.Mesh(g, material);
  mesh.renderOrder = -1;
  mesh.frustumCulled = false;
  return mesh;
}

const linkFragment = /* glsl */ `
  uniform vec3 colour;
  varying float vWeight;
  void main() { gl_FragColor = vec4(colour, vWeight); }
`;

/** One LineSegments for every link: colour #FFC300, opacity = attention weight. */
export function createLinkLines(uploads: UploadCounter): THREE.LineSegments {
  const g = new THREE.BufferGeometry();
  const position = new THREE.BufferAttribute(new Float32Array(MAX_LINKS * 2 * 3), 3);
  const weight = new THREE.BufferAttribute(new Float32Array(MAX_LINKS * 2), 1);
  position.setUsage(THREE.DynamicDrawUsage);
  weight.setUsage(THREE.DynamicDrawUsage);
  g.setAttribute('position', position);
  g.setAttribute('weight', weight);
  g.setDrawRange(0, 0);
  uploads.watch(position);
  uploads.watch(weight);
  const material = new THREE.ShaderMaterial({
    vertexShader: linkVertex,
    fragmentShader: linkFragment,
    uniforms: { colour: { value: new THREE.Color().setRGB(LINK_COLOUR[0], LINK_COLOUR[1], LINK_COLOUR[2]) } },
    transparent: true,
    depthTest: false,
    depthWrite: false,
  });
  const lines = new THREE.LineSegments(g, material);
  lines.frustumCulled = false;
  lines.renderOrder = 2;
  return lines;
}

/** Writes the links of the focused head (query point → key point) and uploads only the used range. */
export function writeLinks(
  lines: THREE.LineSegments,
  shape: MatrixShape,
  focus: { layer: number; head: number } | null,
  coords: Float32Array | null,
  dims: 2 | 3,
  links: Links | null,
): void {
  const g = lines.geometry;
  const tokenCount = shape.points / 2;
  const count = focus && coords && links ? Math.min(links.weight.length, MAX_LINKS) : 0;
  lines.visible = count > 0;
  if (count > 0 && focus && coords && links) {
    const pos = g.getAttribute('position') as THREE.BufferAttribute;
    const w = g.getAttribute('weight') as THREE.BufferAttribute;
    const [cx, cy] = cellCenter(shape, focus.layer, focus.head);
    const put = (vertex: number, point: number) => {
      pos.array[vertex * 3] = cx + coords[point * dims];
      pos.array[vertex * 3 + 1] = cy + coords[point * dims + 1];
      pos.array[vertex * 3 + 2] = dims === 3 ? coords[point * dims + 2] : 0;
    };
    for (let i = 0; i < count; i++) {
      put(2 * i, links.query[i]);
      put(2 * i + 1, tokenCount + links.key[i]);
      w.array[2 * i] = links.weight[i];
      w.array[2 * i + 1] = links.weight[i];
    }
    pos.clearUpdateRanges();
    w.clearUpdateRanges();
    pos.addUpdateRange(0, count * 6);
    w.addUpdateRange(0, count * 2);
    pos.needsUpdate = true;
    w.needsUpdate = true;
  }
  g.setDrawRange(0, count * 2);
}
