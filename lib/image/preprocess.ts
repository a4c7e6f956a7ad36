// An image as a vision model reads it, following its preprocessor_config.json the way
// transformers' (PIL-based) image processors do: resize (to a size, or the shortest edge to a
// length keeping the aspect ratio, truncating the long edge), centre crop, rescale (1/255)
// and normalize per channel — on 8-bit RGB pixels, resized by Pillow's own algorithm
// (resample.ts), so the numbers match the library's on the same pixels.
import { PIL_RESAMPLE, type ResampleFilter, resizeUint8 } from './resample';

export interface ImageProcessor {
  /** [height, width], or the shortest edge's length. */
  resize: { height: number; width: number } | { shortestEdge: number } | null;
  resample: ResampleFilter;
  crop: { height: number; width: number } | null;
  rescale: number | null;
  mean: [number, number, number] | null;
  std: [number, number, number] | null;
}

export class ImageProcessorError extends Error {}

const IMAGENET_MEAN: [number, number, number] = [0.485, 0.456, 0.406];
const IMAGENET_STD: [number, number, number] = [0.229, 0.224, 0.225];

function sizeOf(value: unknown, what: string): { height: number; width: number } | { shortestEdge: number } {
  if (typeof value === 'number') return { height: value, width: value };
  const v = (value ?? {}) as Record<string, unknown>;
  if (typeof v.height === 'number' && typeof v.width === 'number') return { height: v.height, width: v.width };
  if (typeof v.shortest_edge === 'number') return { shortestEdge: v.shortest_edge };
  throw new ImageProcessorError(`preprocessor_config.json: ${what} ${JSON.stringify(value)} is not a size QKViz reads (height/width or shortest_edge)`);
}

const triple = (v: unknown, fallback: [number, number, number]): [number, number, number] =>
  Array.isArray(v) && v.length === 3 && v.every((x) => typeof x === 'number') ? (v as [number, number, number]) : typeof v === 'number' ? [v, v, v] : fallback;

/** preprocessor_config.json → the steps; absent keys take the library's defaults. */
export function parseImageProcessor(json: Record<string, unknown>): ImageProcessor {
  const flag = (key: string, fallback = true) => (typeof json[key] === 'boolean' ? (json[key] as boolean) : fallback);
  const resample = PIL_RESAMPLE[typeof json.resample === 'number' ? json.resample : 2];
  if (!resample) throw new ImageProcessorError(`preprocessor_config.json: resample ${String(json.resample)} is not a Pillow filter`);
  return {
    resize: flag('do_resize') ? sizeOf(json.size ?? 224, 'size') : null,
    resample,
    crop: flag('do_center_crop', false) ? (sizeOf(json.crop_size ?? 224, 'crop_size') as { height: number; width: number }) : null,
    rescale: flag('do_rescale') ? (typeof json.rescale_factor === 'number' ? json.rescale_factor : 1 / 255) : null,
    mean: flag('do_normalize') ? triple(json.image_mean, IMAGENET_MEAN) : null,
    std: flag('do_normalize') ? triple(json.image_std, IMAGENET_STD) : null,
  };
}

/** The size a resize step gives an image of width × height ([height, width]), as transformers computes it. */
export function resizedSize(p: ImageProcessor, width: number, height: number): [number, number] {
  if (!p.resize) return [height, width];
  if ('height' in p.resize) return [p.resize.height, p.resize.width];
  const short = Math.min(width, height);
  const long = Math.max(width, height);
  const newShort = p.resize.shortestEdge;
  const newLong = Math.trunc((newShort * long) / short);
  return width <= height ? [newLong, newShort] : [newShort, newLong];
}

/** The pixel size every image comes out at ([height, width]); null when it depends on the image (no crop after a shortest-edge resize). */
export function outputSize(p: ImageProcessor): [number, number] | null {
  if (p.crop) return [p.crop.height, p.crop.width];
  if (p.resize && 'height' in p.resize) return [p.resize.height, p.resize.width];
  return null;
}

/**
 * 8-bit RGB pixels ([height][width][3]) → the model's input [3][H][W] in float32, and the
 * 8-bit picture it is made from (resized and cropped, [H][W][3]).
 */
export function preprocessImage(
  p: ImageProcessor,
  rgb: Uint8Array,
  width: number,
  height: number,
): { pixels: Float32Array; picture: Uint8Array; height: number; width: number } {
  let image = rgb;
  let [h, w] = [height, width];
  if (p.resize) {
    const [rh, rw] = resizedSize(p, width, height);
    if (rh !== h || rw !== w) image = resizeUint8(image, w, h, 3, rw, rh, p.resample);
    [h, w] = [rh, rw];
  }
  let top = 0;
  let left = 0;
  let [oh, ow] = [h, w];
  if (p.crop) {
    if (p.crop.height > h || p.crop.width > w) throw new ImageProcessorError(`a ${w}×${h} image cannot be centre-cropped to ${p.crop.width}×${p.crop.height}`);
    top = Math.trunc((h - p.crop.height) / 2);
    left = Math.trunc((w - p.crop.width) / 2);
    [oh, ow] = [p.crop.height, p.crop.width];
  }
  const pixels = new Float32Array(3 * oh * ow);
  const picture = new Uint8Array(oh * ow * 3);
  for (let y = 0; y < oh; y++) picture.set(image.subarray(((y + top) * w + left) * 3, ((y + top) * w + left + ow) * 3), y * ow * 3);
  const scale = p.rescale ?? 1;
  for (let c = 0; c < 3; c++) {
    // As transformers: rescale in float64 then to float32, normalize in float32.
    const mean = Math.fround(p.mean?.[c] ?? 0);
    const std = Math.fround(p.std?.[c] ?? 1);
    for (let y = 0; y < oh; y++)
      for (let x = 0; x < ow; x++) {
        const v = Math.fround(image[((y + top) * w + x + left) * 3 + c] * scale);
        pixels[(c * oh + y) * ow + x] = p.mean ? Math.fround(Math.fround(v - mean) / std) : v;
      }
  }
  return { pixels, picture, height: oh, width: ow };
}

/** A vision model's input size from its preprocessor_config.json text ([height, width]); refused, in words, when images would come out in varying sizes. */
export function processorImageSize(preprocessorJson: string, what: string): { processor: Record<string, unknown>; size: [number, number] } {
  let processor: Record<string, unknown>;
  try {
    processor = JSON.parse(preprocessorJson);
  } catch {
    throw new ImageProcessorError(`${what}'s preprocessor_config.json is not valid JSON`);
  }
  const size = outputSize(parseImageProcessor(processor));
  if (!size)
    throw new ImageProcessorError(
      `${what}'s preprocessor resizes the shortest edge without cropping, so its images come out in varying sizes; QKViz needs one size`,
    );
  return { processor, size };
}
