// The coordinates file shared by the CLI (`qkviz project`) and the app's export: every
// head's layout in one float32 array [layers, heads, 2N, dims], written as NPY.
import { encodeNpy } from './npy';

export const COORDS_LAYOUT =
  'coords[layer, head, :N] are the queries in token order, coords[layer, head, N:] the keys; each head centred and scaled uniformly into the unit ball';

/** Packs per-head layouts ([2N][dims] each) into one [layers, heads, 2N, dims] NPY file; null if a head is missing. */
export function coordsNpy(
  layers: number,
  heads: number,
  points: number,
  dims: number,
  layout: (layer: number, head: number) => Float32Array | null,
): Uint8Array | null {
  const coords = new Float32Array(layers * heads * points * dims);
  for (let l = 0; l < layers; l++) {
    for (let h = 0; h < heads; h++) {
      const c = layout(l, h);
      if (!c || c.length !== points * dims) return null;
      coords.set(c, (l * heads + h) * points * dims);
    }
  }
  return encodeNpy(coords, [layers, heads, points, dims]);
}
