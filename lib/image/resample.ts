// Separable resampling as Pillow does it (Image.resize: ImagingResample's precomputed
// coefficients, horizontal pass then vertical, each rounded to 8 bits in fixed point) — what
// transformers' image processors run on a picture — and the same coefficients in floating
// point, which is torch's antialiased interpolate (how DINOv2 fits its position embeddings to
// another grid). Filters are Pillow's: bilinear (triangle, support 1), bicubic (a = −0.5,
// support 2), lanczos (support 3), box and hamming.

export type ResampleFilter = 'nearest' | 'box' | 'bilinear' | 'hamming' | 'bicubic' | 'lanczos';

/** transformers' `resample` numbers (PIL.Image.Resampling) to filter names. */
export const PIL_RESAMPLE: Record<number, ResampleFilter> = { 0: 'nearest', 1: 'lanczos', 2: 'bilinear', 3: 'bicubic', 4: 'box', 5: 'hamming' };

const sinc = (x: number) => (x === 0 ? 1 : Math.sin(Math.PI * x) / (Math.PI * x));

const FILTERS: Record<Exclude<ResampleFilter, 'nearest'>, { support: number; f: (x: number) => number }> = {
  box: { support: 0.5, f: (x) => (x > -0.5 && x <= 0.5 ? 1 : 0) },
  bilinear: { support: 1, f: (x) => (Math.abs(x) < 1 ? 1 - Math.abs(x) : 0) },
  hamming: { support: 1, f: (x) => (Math.abs(x) >= 1 ? 0 : x === 0 ? 1 : sinc(x) * (0.54 + 0.46 * Math.cos(Math.PI * x))) },
  bicubic: {
    support: 2,
    f: (v) => {
      const a = -0.5;
      const x = Math.abs(v);
      if (x < 1) return ((a + 2) * x - (a + 3)) * x * x + 1;
      if (x < 2) return (((x - 5) * x + 8) * x - 4) * a;
      return 0;
    },
  },
  lanczos: { support: 3, f: (x) => (x > -3 && x < 3 ? sinc(x) * sinc(x / 3) : 0) },
};

export interface Coefficients {
  /** First input index of each output's taps. */
  start: Int32Array;
  /** Taps of each output. */
  count: Int32Array;
  /** [out][ksize] normalised weights (zeros past `count`). */
  weights: Float64Array;
  ksize: number;
}

/** Pillow's precompute_coeffs for the box [in0, in1) of an axis of `inSize` samples resized to `outSize`. */
export function coefficients(inSize: number, outSize: number, filter: Exclude<ResampleFilter, 'nearest'>, in0 = 0, in1 = inSize): Coefficients {
  const { support: base, f } = FILTERS[filter];
  const scale = (in1 - in0) / outSize;
  const filterScale = Math.max(1, scale);
  const support = base * filterScale;
  const ksize = Math.ceil(support) * 2 + 1;
  const start = new Int32Array(outSize);
  const count = new Int32Array(outSize);
  const weights = new Float64Array(outSize * ksize);
  for (let xx = 0; xx < outSize; xx++) {
    const center = in0 + (xx + 0.5) * scale;
    const ss = 1 / filterScale;
    // C's (int) truncates toward zero.
    const xmin = Math.max(0, Math.trunc(center - support + 0.5));
    const xmax = Math.min(inSize, Math.trunc(center + support + 0.5)) - xmin;
    let total = 0;
    for (let x = 0; x < xmax; x++) total += weights[xx * ksize + x] = f((x + xmin - center + 0.5) * ss);
    if (total !== 0) for (let x = 0; x < xmax; x++) weights[xx * ksize + x] /= total;
    start[xx] = xmin;
    count[xx] = Math.max(0, xmax);
  }
  return { start, count, weights, ksize };
}

const PRECISION_BITS = 32 - 8 - 2;

/** Pillow's 8-bit fixed-point coefficients. */
function fixedPoint(c: Coefficients): Int32Array {
  return Int32Array.from(c.weights, (k) => Math.trunc(k < 0 ? -0.5 + k * (1 << PRECISION_BITS) : 0.5 + k * (1 << PRECISION_BITS)));
}

const clip8 = (v: number) => {
  const s = Math.floor(v / (1 << PRECISION_BITS));
  return s < 0 ? 0 : s > 255 ? 255 : s;
};

/** One Pillow pass along an axis of an 8-bit image: rows (horizontal) or columns (vertical). */
function pass8(src: Uint8Array, width: number, height: number, channels: number, c: Coefficients, horizontal: boolean): Uint8Array {
  const kk = fixedPoint(c);
  const outWidth = horizontal ? c.start.length : width;
  const outHeight = horizontal ? height : c.start.length;
  const out = new Uint8Array(outWidth * outHeight * channels);
  for (let y = 0; y < outHeight; y++) {
    for (let x = 0; x < outWidth; x++) {
      const o = horizontal ? x : y;
      const first = c.start[o];
      const n = c.count[o];
      for (let ch = 0; ch < channels; ch++) {
        let ss = 1 << (PRECISION_BITS - 1);
        for (let t = 0; t < n; t++) {
          const at = horizontal ? (y * width + first + t) * channels + ch : ((first + t) * width + x) * channels + ch;
          ss += src[at] * kk[o * c.ksize + t];
        }
        out[(y * outWidth + x) * channels + ch] = clip8(ss);
      }
    }
  }
  return out;
}

/**
 * An 8-bit image ([height][width][channels], row-major) resized as Pillow's Image.resize does
 * it: two passes, each rounded to 8 bits — horizontal then vertical, except (Pillow 13,
 * python-pillow/Pillow#9549) when the height shrinks and by more than twice what the width
 * loses, when the vertical pass goes first. Nearest takes Pillow's pixel centres.
 */
export function resizeUint8(
  src: Uint8Array,
  width: number,
  height: number,
  channels: number,
  outWidth: number,
  outHeight: number,
  filter: ResampleFilter,
): Uint8Array {
  if (filter === 'nearest') {
    const out = new Uint8Array(outWidth * outHeight * channels);
    for (let y = 0; y < outHeight; y++) {
      const sy = Math.min(height - 1, Math.floor(((y + 0.5) * height) / outHeight));
      for (let x = 0; x < outWidth; x++) {
        const sx = Math.min(width - 1, Math.floor(((x + 0.5) * width) / outWidth));
        for (let c = 0; c < channels; c++) out[(y * outWidth + x) * channels + c] = src[(sy * width + sx) * channels + c];
      }
    }
    return out;
  }
  const needH = outWidth !== width;
  const needV = outHeight !== height;
  const horizontal = () => coefficients(width, outWidth, filter);
  const vertical = () => coefficients(height, outHeight, filter);
  if (needV && outHeight < height && 2 * (width - outWidth) < height - outHeight) {
    const v = pass8(src, width, height, channels, vertical(), false);
    return needH ? pass8(v, width, outHeight, channels, horizontal(), true) : v;
  }
  const h = needH ? pass8(src, width, height, channels, horizontal(), true) : src;
  return needV ? pass8(h, outWidth, height, channels, vertical(), false) : h === src ? Uint8Array.from(src) : h;
}

/**
 * torch.nn.functional.interpolate(mode='bicubic' | 'bilinear', align_corners=False,
 * antialias=True) of [channels][height][width] floats: the same coefficients in floating point
 * (torch's separable antialiased kernels match Pillow's), width first.
 */
export function resizeAntialiased(
  src: Float64Array,
  channels: number,
  height: number,
  width: number,
  outHeight: number,
  outWidth: number,
  filter: 'bicubic' | 'bilinear',
): Float64Array {
  const horizontal = coefficients(width, outWidth, filter);
  const vertical = coefficients(height, outHeight, filter);
  const mid = new Float64Array(channels * height * outWidth);
  for (let c = 0; c < channels; c++)
    for (let y = 0; y < height; y++)
      for (let x = 0; x < outWidth; x++) {
        let s = 0;
        for (let t = 0; t < horizontal.count[x]; t++)
          s += src[(c * height + y) * width + horizontal.start[x] + t] * horizontal.weights[x * horizontal.ksize + t];
        mid[(c * height + y) * outWidth + x] = s;
      }
  const out = new Float64Array(channels * outHeight * outWidth);
  for (let c = 0; c < channels; c++)
    for (let y = 0; y < outHeight; y++)
      for (let x = 0; x < outWidth; x++) {
        let s = 0;
        for (let t = 0; t < vertical.count[y]; t++) s += mid[(c * height + vertical.start[y] + t) * outWidth + x] * vertical.weights[y * vertical.ksize + t];
        out[(c * outHeight + y) * outWidth + x] = s;
      }
  return out;
}

/**
 * torch.nn.functional.interpolate(mode='bicubic', align_corners=False) without antialiasing
 * (ViT's interpolate_pos_encoding): Keys' cubic convolution with a = −0.75 at the source
 * coordinate (i + 0.5)·scale − 0.5, edge samples clamped.
 */
export function resizeBicubic(src: Float64Array, channels: number, height: number, width: number, outHeight: number, outWidth: number): Float64Array {
  const A = -0.75;
  const cubic1 = (x: number) => ((A + 2) * x - (A + 3)) * x * x + 1;
  const cubic2 = (x: number) => ((A * x - 5 * A) * x + 8 * A) * x - 4 * A;
  const taps = (t: number) => [cubic2(t + 1), cubic1(t), cubic1(1 - t), cubic2(2 - t)];
  const axis = (inSize: number, outSize: number) =>
    Array.from({ length: outSize }, (_, i) => {
      const real = ((i + 0.5) * inSize) / outSize - 0.5;
      const base = Math.floor(real);
      return { base, w: taps(real - base) };
    });
  const ys = axis(height, outHeight);
  const xs = axis(width, outWidth);
  const at = (c: number, y: number, x: number) => src[(c * height + Math.min(height - 1, Math.max(0, y))) * width + Math.min(width - 1, Math.max(0, x))];
  const out = new Float64Array(channels * outHeight * outWidth);
  for (let c = 0; c < channels; c++)
    for (let oy = 0; oy < outHeight; oy++)
      for (let ox = 0; ox < outWidth; ox++) {
        let s = 0;
        for (let i = 0; i < 4; i++) {
          let row = 0;
          for (let j = 0; j < 4; j++) row += at(c, ys[oy].base - 1 + i, xs[ox].base - 1 + j) * xs[ox].w[j];
          s += row * ys[oy].w[i];
        }
        out[(c * outHeight + oy) * outWidth + ox] = s;
      }
  return out;
}
