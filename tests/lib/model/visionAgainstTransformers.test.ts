// Vision transformers against Hugging Face transformers: on tiny random-weight ViT, DeiT,
// DINOv2 (its positions interpolated from a 7×7 grid to the preprocessor's 4×4), DINOv2 with
// registers (antialiased interpolation) and a CLIP checkpoint's vision tower (text tensors
// beside it), made by scripts/make-vision-references.py: our preprocessing of four 8-bit
// images equals the library's (PIL-based) image processor's pixel_values; the converted graph
// fed those pixels gives the library's float64 queries, keys, values and attention, each image
// alone and all in one batch; and Σ_j α_ij·f_h(x_j), with α recomputed from the graph's Q/K,
// equals what each head writes.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { sentenceAttention } from '../../../lib/analysis/attention';
import { parseImageProcessor, preprocessImage, outputSize } from '../../../lib/image/preprocess';
import { buildModelGraph } from '../../../lib/model/architectures';
import { PIXEL_VALUES, attentionOutput, keyOutput, queryOutput, valueNormOutput, valueOutput } from '../../../lib/model/outputs';
import { TensorSource } from '../../../lib/model/tensors';
import { plainAttention } from '../../../lib/data/attention';
import * as ort from 'onnxruntime-node';
import { openSession } from '../../helpers/models';
import { REFERENCE_FIXTURES, readNpyFile } from '../../helpers/reference';

export const VISION_MODELS = ['tiny-vit', 'tiny-deit', 'tiny-dinov2', 'tiny-dinov2-registers', 'tiny-clip-vision'];
const IMAGES = join(REFERENCE_FIXTURES, 'vision-images');

const readNpy = readNpyFile;

function fixture(name: string) {
  const dir = join(REFERENCE_FIXTURES, name);
  const ref = (n: string) => readNpy(join(dir, 'reference', `${n}.npy`)).data as Float64Array;
  const tokens = JSON.parse(readFileSync(join(dir, 'reference', 'tokens.json'), 'utf8')) as {
    images: number;
    tokens_per_image: number;
    grid: [number, number];
  };
  const [L, NH, N, D] = readNpy(join(dir, 'reference', 'q_pre.npy')).shape;
  const hidden = readNpy(join(dir, 'reference', 'head_out.npy')).shape[3];
  return { dir, ref, tokens, L, NH, N, D, hidden, pixels: readNpy(join(dir, 'reference', 'pixel_values.npy')) };
}

const relative = (want: number, got: number) => Math.abs(got - want) / Math.max(1, Math.abs(want));

describe('vision transformers against transformers', () => {
  it.each(VISION_MODELS)('%s: our preprocessing gives the image processor’s pixel_values (≤ 1e-5)', (name) => {
    const f = fixture(name);
    const processor = parseImageProcessor(JSON.parse(readFileSync(join(f.dir, 'preprocessor_config.json'), 'utf8')));
    const [, , H, W] = f.pixels.shape;
    expect(outputSize(processor)).toEqual([H, W]);
    let worst = 0;
    for (let i = 0; i < f.tokens.images; i++) {
      const image = readNpy(join(IMAGES, `image${i}.npy`));
      const [h, w] = image.shape;
      const { pixels } = preprocessImage(processor, image.data as Uint8Array, w, h);
      const want = (f.pixels.data as Float64Array).subarray(i * 3 * H * W, (i + 1) * 3 * H * W);
      for (let k = 0; k < want.length; k++) worst = Math.max(worst, Math.abs(pixels[k] - want[k]));
    }
    console.log(`[qkviz] ${name} preprocessing vs transformers: ${worst.toExponential(1)}`);
    expect(worst).toBeLessThanOrEqual(1e-5);
  });

  it.each(VISION_MODELS)('%s: queries, keys, values and attention of the converted graph, alone and batched; Σ α·f = the head’s output', async (name) => {
    const f = fixture(name);
    const { L, NH, D, hidden: Hd, tokens } = f;
    const n = tokens.tokens_per_image;
    const [, , H, W] = f.pixels.shape;
    const source = await TensorSource.fromBytes(new Uint8Array(readFileSync(join(f.dir, 'model.safetensors'))));
    const { spec, graph, meta } = buildModelGraph(JSON.parse(readFileSync(join(f.dir, 'config.json'), 'utf8')), source, {
      sourceName: name,
      imageSize: [H, W],
    });
    expect(spec.image?.grid).toEqual(tokens.grid);
    expect(spec.maxTokens).toBe(n);
    const session = await openSession(await graph.bytes(meta));
    const [q, k, v, attention, headOut] = ['q_pre', 'k_pre', 'v', 'attention', 'head_out'].map(f.ref);
    const worst = { q: 0, k: 0, v: 0, attention: 0, norm: 0, moved: 0 };
    const specs = plainAttention(L, D);
    const wos = await Promise.all(Array.from({ length: L }, (_, l) => outputProjection(source, l, NH * D, Hd)));
    for (const batch of [...Array.from({ length: tokens.images }, (_, i) => [i]), Array.from({ length: tokens.images }, (_, i) => i)]) {
      const data = new Float32Array(batch.length * 3 * H * W);
      batch.forEach((img, b) => data.set((f.pixels.data as Float64Array).subarray(img * 3 * H * W, (img + 1) * 3 * H * W), b * 3 * H * W));
      const out = await session.run({ [PIXEL_VALUES]: new ort.Tensor('float32', data, [batch.length, 3, H, W]) });
      batch.forEach((img, b) => {
        for (let l = 0; l < L; l++) {
          const got = { q: out[queryOutput(l)].data, k: out[keyOutput(l)].data, v: out[valueOutput(l)].data } as Record<'q' | 'k' | 'v', Float32Array>;
          const a = out[attentionOutput(l)].data as Float32Array;
          const norms = out[valueNormOutput(l)].data as Float32Array;
          for (let h = 0; h < NH; h++) {
            for (let t = 0; t < n; t++)
              for (let d = 0; d < D; d++) {
                const at = ((l * NH + h) * f.N + img * n + t) * D + d;
                const mine = (b * n + t) * NH * D + h * D + d;
                worst.q = Math.max(worst.q, relative(q[at], got.q[mine]));
                worst.k = Math.max(worst.k, relative(k[at], got.k[mine]));
                worst.v = Math.max(worst.v, relative(v[at], got.v[mine]));
              }
            for (let i = 0; i < n; i++)
              for (let j = 0; j < n; j++)
                worst.attention = Math.max(
                  worst.attention,
                  Math.abs(attention[(l * NH + h) * f.N * n + img * n * n + i * n + j] - a[((b * NH + h) * n + i) * n + j]),
                );
            // f_h(x_j) = v_j·W_O,h from the graph's values and the checkpoint; α from the graph's Q/K.
            const rows = (x: Float32Array) => Float32Array.from({ length: n * D }, (_, r) => x[(b * n + Math.floor(r / D)) * NH * D + h * D + (r % D)]);
            const alpha = sentenceAttention(rows(got.q), rows(got.k), D, 0, n, specs[l], false);
            const vRows = rows(got.v);
            const wo = wos[l];
            const fx = Array.from({ length: n }, (_, j) =>
              Float64Array.from({ length: Hd }, (_, o) => {
                let s = 0;
                for (let d = 0; d < D; d++) s += vRows[j * D + d] * wo[(h * D + d) * Hd + o];
                return s;
              }),
            );
            for (let j = 0; j < n; j++) worst.norm = Math.max(worst.norm, relative(Math.hypot(...fx[j]), norms[(b * NH + h) * n + j]));
            for (let i = 0; i < n; i++) {
              let error = 0;
              let size = 1;
              for (let o = 0; o < Hd; o++) {
                let moved = 0;
                for (let j = 0; j < n; j++) moved += alpha[i * n + j] * fx[j][o];
                const want = headOut[((l * NH + h) * f.N + img * n + i) * Hd + o];
                error = Math.max(error, Math.abs(moved - want));
                size = Math.max(size, Math.abs(want));
              }
              worst.moved = Math.max(worst.moved, error / size);
            }
          }
        }
      });
    }
    console.log(
      `[qkviz] ${name} vs transformers: ${Object.entries(worst)
        .map(([key, e]) => `${key} ${e.toExponential(1)}`)
        .join(', ')}`,
    );
    expect(Math.max(worst.q, worst.k, worst.v, worst.norm, worst.moved)).toBeLessThan(1e-4);
    expect(worst.attention).toBeLessThan(1e-5);
  });
});

/** W_O of layer l as float64 [in = heads·d][out = hidden], by the checkpoint's names. */
async function outputProjection(source: TensorSource, layer: number, inDim: number, hidden: number): Promise<Float64Array> {
  // A CLIP checkpoint holds the text tower's layers too.
  const name = source
    .names()
    .find(
      (n) => !n.startsWith('text_model.') && new RegExp(`(?:^|\\.)layers?\\.${layer}\\.(?:attention\\.output\\.dense|self_attn\\.out_proj)\\.weight$`).test(n),
    );
  if (!name) throw new Error(`no output projection of layer ${layer}`);
  const raw = await source.float32(name);
  return Float64Array.from({ length: inDim * hidden }, (_, x) => raw[(x % hidden) * inDim + Math.floor(x / hidden)]);
}
