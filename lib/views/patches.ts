// An image run's patches as colours: each patch token's mean colour and brightness, from the
// pictures the model saw, for the "patch colour" and "brightness" colourings.
import type { ImageLayout } from '../data/layout';

/** Per token row: a patch's mean R, G, B (0 for a special token) and its brightness (Rec. 601 luma, 0…1; −1 for a special token). */
export interface PatchMeans {
  rgb: Uint8Array;
  /** 0…1 per row; −1 for a special token. */
  brightness: Float32Array;
}

export function patchMeans(pictures: Uint8Array, layout: ImageLayout, images: number): PatchMeans {
  const [rows, cols] = layout.grid;
  const perImage = layout.specials + rows * cols;
  const rgb = new Uint8Array(images * perImage * 3);
  const brightness = new Float32Array(images * perImage).fill(-1);
  const { patch, width, height } = layout;
  for (let i = 0; i < images; i++) {
    const base = i * height * width * 3;
    for (let p = 0; p < rows * cols; p++) {
      const [pr, pc] = [Math.floor(p / cols), p % cols];
      let r = 0;
      let g = 0;
      let b = 0;
      for (let y = pr * patch; y < (pr + 1) * patch; y++)
        for (let x = pc * patch; x < (pc + 1) * patch; x++) {
          const at = base + (y * width + x) * 3;
          r += pictures[at];
          g += pictures[at + 1];
          b += pictures[at + 2];
        }
      const n = patch * patch;
      const row = i * perImage + layout.specials + p;
      rgb.set([r / n, g / n, b / n], row * 3);
      brightness[row] = (0.299 * r + 0.587 * g + 0.114 * b) / n / 255;
    }
  }
  return { rgb, brightness };
}
