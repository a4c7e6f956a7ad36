// An image run's pictures as one texture atlas for the point shader: each picture shrunk to a
// few pixels a patch (as many as the texture's size allows: 8, 4, 2 or 1), laid out in rows of
// cells, so a patch point samples its own square of its own image.
import * as THREE from 'three';
import type { ImageLayout } from '@/lib/data/layout';

/** The atlas's side at most (WebGL2 guarantees 4096). */
const MAX_SIDE = 4096;

export interface ThumbAtlas {
  texture: THREE.DataTexture;
  layout: ImageLayout;
  /** One image's cell (pixels) and images per atlas row. */
  cell: [number, number];
  perRow: number;
  size: [number, number];
}

/** The atlas of `count` pictures (uint8 [image][height][width][3]). */
export function thumbAtlas(pictures: Uint8Array, layout: ImageLayout): ThumbAtlas {
  const count = pictures.length / (layout.height * layout.width * 3);
  const [rows, cols] = layout.grid;
  let px = 8;
  const fits = (p: number) => {
    const perRow = Math.max(1, Math.floor(MAX_SIDE / (cols * p)));
    return Math.ceil(count / perRow) * rows * p <= MAX_SIDE;
  };
  while (px > 1 && !fits(px)) px /= 2;
  const cell: [number, number] = [cols * px, rows * px];
  const perRow = Math.max(1, Math.min(count, Math.floor(MAX_SIDE / cell[0])));
  const width = perRow * cell[0];
  const height = Math.min(MAX_SIDE, Math.ceil(count / perRow) * cell[1]);
  const data = new Uint8Array(width * height * 4);
  const { patch } = layout;
  for (let i = 0; i < count; i++) {
    const ox = (i % perRow) * cell[0];
    const oy = Math.floor(i / perRow) * cell[1];
    if (oy >= height) break;
    const base = i * layout.height * layout.width * 3;
    // Each atlas pixel: the mean of its share of the patch's pixels.
    const step = patch / px;
    for (let y = 0; y < cell[1]; y++) {
      const y0 = Math.floor(y * step);
      const y1 = Math.max(y0 + 1, Math.floor((y + 1) * step));
      for (let x = 0; x < cell[0]; x++) {
        const x0 = Math.floor(x * step);
        const x1 = Math.max(x0 + 1, Math.floor((x + 1) * step));
        let r = 0;
        let g = 0;
        let b = 0;
        for (let sy = y0; sy < y1; sy++)
          for (let sx = x0; sx < x1; sx++) {
            const at = base + (sy * layout.width + sx) * 3;
            r += pictures[at];
            g += pictures[at + 1];
            b += pictures[at + 2];
          }
        const n = (y1 - y0) * (x1 - x0);
        const to = ((oy + y) * width + ox + x) * 4;
        data[to] = r / n;
        data[to + 1] = g / n;
        data[to + 2] = b / n;
        data[to + 3] = 255;
      }
    }
  }
  const texture = new THREE.DataTexture(data, width, height, THREE.RGBAFormat, THREE.UnsignedByteType);
  texture.minFilter = THREE.LinearFilter;
  texture.magFilter = THREE.NearestFilter;
  texture.generateMipmaps = false;
  texture.needsUpdate = true;
  return { texture, layout, cell, perRow, size: [width, height] };
}
