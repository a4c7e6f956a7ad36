// An image corpus: each image a "sentence" whose tokens are the model's special tokens, then
// its patches in reading order ("r3c7": row 3, column 7 of the patch grid), with the pixels
// the model reads (preprocessed as its image processor does) and the 8-bit picture it saw
// after resizing and cropping (what thumbnails and the attention overlay draw).
import { type ImageProcessor, outputSize, preprocessImage } from '../image/preprocess';
import type { ImageSpec, SpecialTokenKind } from '../data/layout';
import type { TokenizedCorpus } from './tokenize';

/** An image decoded to 8-bit RGB ([height][width][3]). */
export interface DecodedImage {
  name: string;
  width: number;
  height: number;
  rgb: Uint8Array;
}

/** How the views write a special token. */
export const SPECIAL_TEXT: Record<SpecialTokenKind, string> = { cls: '[CLS]', distillation: '[DIST]', register: '[REG]' };

/** Patch (row, column) of the grid as a token (1-based, as a reader counts). */
export const patchToken = (row: number, column: number) => `r${row + 1}c${column + 1}`;

/** A patch token's (row, column), 0-based; null for a special token. */
export function patchOf(token: string): [number, number] | null {
  const m = token.match(/^r(\d+)c(\d+)$/);
  return m ? [Number(m[1]) - 1, Number(m[2]) - 1] : null;
}

export class ImageCorpusError extends Error {}

/** The corpus of `images` as `shape`'s model reads them. */
export function imageCorpus(images: DecodedImage[], shape: ImageSpec, processor: ImageProcessor): TokenizedCorpus {
  if (!images.length) throw new ImageCorpusError('the image corpus is empty: add at least one image (PNG, JPEG or WebP)');
  const size = outputSize(processor);
  if (!size || size[0] !== shape.size[0] || size[1] !== shape.size[1])
    throw new ImageCorpusError(
      `the model takes ${shape.size[1]}×${shape.size[0]} images but its preprocessor gives ${size ? `${size[1]}×${size[0]}` : 'images of varying size'}`,
    );
  const [rows, columns] = shape.grid;
  const tokens = [
    ...shape.specials.map((s) => SPECIAL_TEXT[s]),
    ...Array.from({ length: rows * columns }, (_, p) => patchToken(Math.floor(p / columns), p % columns)),
  ];
  const pixels = { values: [] as Float32Array[], pictures: [] as Uint8Array[], height: size[0], width: size[1] };
  const corpus: TokenizedCorpus = { sentences: [], tokenCount: 0, notices: [], pixels };
  for (const image of images) {
    const input = preprocessImage(processor, image.rgb, image.width, image.height);
    pixels.values.push(input.pixels);
    pixels.pictures.push(input.picture);
    corpus.sentences.push({ text: image.name, ids: new Array<number>(tokens.length).fill(0), tokens, start: corpus.tokenCount });
    corpus.tokenCount += tokens.length;
  }
  return corpus;
}
