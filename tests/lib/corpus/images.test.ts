// An image corpus through the real pipeline, on the tiny DINOv2-with-registers checkpoint: its
// tokens are [CLS], two [REG] and a 4×4 grid of patches, its pixels the image processor's; the
// extraction's queries equal transformers' float64 ones for every image; a stored run keeps
// each image's picture (what thumbnails draw) bit for bit, checksummed, and says it is an
// image run; its special-token share counts [CLS] and the registers; an empty image corpus and a model whose preprocessor disagrees are refused in words.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { type DecodedImage, imageCorpus } from '../../../lib/corpus/images';
import { headVectors } from '../../../lib/data/layout';
import { extractQueryKeys } from '../../../lib/engine/extract';
import { analyzeHeads } from '../../../lib/analysis/analyze';
import { runSentenceAttention } from '../../../lib/analysis/attention';
import { type OrtModule, openModel } from '../../../lib/engine/runtime';
import { parseImageProcessor, processorImageSize } from '../../../lib/image/preprocess';
import { buildModelGraph } from '../../../lib/model/architectures';
import { TensorSource } from '../../../lib/model/tensors';
import { runIntoStore } from '../../../lib/run/pipeline';
import { MemoryStore } from '../../../lib/store/files';
import { RunReader } from '../../../lib/store/runStore';
import { REFERENCE_FIXTURES, readNpyFile } from '../../helpers/reference';

const DIR = join(REFERENCE_FIXTURES, 'tiny-dinov2-registers');

const npy = readNpyFile;

const images: DecodedImage[] = [0, 1, 2, 3].map((i) => {
  const { data, shape } = npy(join(REFERENCE_FIXTURES, 'vision-images', `image${i}.npy`));
  return { name: `image${i}.png`, height: shape[0], width: shape[1], rgb: data as Uint8Array };
});

async function model() {
  const { processor, size } = processorImageSize(readFileSync(join(DIR, 'preprocessor_config.json'), 'utf8'), 'tiny-dinov2-registers');
  const source = await TensorSource.fromBytes(new Uint8Array(readFileSync(join(DIR, 'model.safetensors'))));
  const { spec, graph, meta } = buildModelGraph(JSON.parse(readFileSync(join(DIR, 'config.json'), 'utf8')), source, { imageSize: size });
  const runner = await openModel(ort as unknown as OrtModule, await graph.bytes(meta), ['cpu']);
  return { spec: { ...spec, name: 'tiny-dinov2-registers', image: spec.image! }, processor: parseImageProcessor(processor), runner };
}

describe('an image corpus', () => {
  it('is read as [CLS], the registers and the patch grid, with the image processor’s pixels; extraction gives transformers’ queries', async () => {
    const { spec, processor, runner } = await model();
    const corpus = imageCorpus(images, spec.image, processor);
    expect(corpus.sentences[1].tokens).toEqual([
      '[CLS]',
      '[REG]',
      '[REG]',
      ...Array.from({ length: 16 }, (_, p) => `r${Math.floor(p / 4) + 1}c${(p % 4) + 1}`),
    ]);
    expect(corpus.sentences.map((s) => s.text)).toEqual(images.map((i) => i.name));
    const pixels = npy(join(DIR, 'reference', 'pixel_values.npy')).data as Float64Array;
    corpus.pixels!.values.forEach((p, i) => p.forEach((v, k) => expect(Math.abs(v - pixels[i * p.length + k])).toBeLessThanOrEqual(1e-6)));
    const data = await extractQueryKeys(runner, spec.name, spec, corpus);
    const q = npy(join(DIR, 'reference', 'q_pre.npy')).data as Float64Array;
    let worst = 0;
    for (let l = 0; l < spec.layers; l++)
      for (let h = 0; h < spec.heads; h++) {
        const got = headVectors(data, l, h).q;
        for (let i = 0; i < got.length; i++)
          worst = Math.max(
            worst,
            Math.abs(got[i] - q[(l * spec.heads + h) * got.length + i]) / Math.max(1, Math.abs(q[(l * spec.heads + h) * got.length + i])),
          );
      }
    console.log(`[qkviz] image corpus through the pipeline: queries within ${worst.toExponential(1)} of transformers`);
    expect(worst).toBeLessThan(1e-4);
    expect(data.images).toEqual({ height: 32, width: 32, patch: 8, grid: [4, 4], specials: 3 });
    expect(data.valueNorms).toBeDefined();
    // The special-token share counts an image's [CLS] and registers (not its last patch): recomputed here.
    const analysis = await analyzeHeads(data);
    for (const cell of [0, 5]) {
      let share = 0;
      data.sentences.forEach((s, si) => {
        const a = runSentenceAttention(data, Math.floor(cell / spec.heads), cell % spec.heads, si);
        const n = s.ids.length;
        for (let i = 0; i < n; i++) share += a[i * n] + a[i * n + 1] + a[i * n + 2];
      });
      expect(Math.abs(analysis.heads[cell].attention.specialShare - share / data.tokenCount)).toBeLessThan(1e-6);
    }
  });

  it('stores each picture as the model saw it, checked, beside the vectors', async () => {
    const { spec, processor, runner } = await model();
    const corpus = imageCorpus(images, spec.image, processor);
    const root = new MemoryStore();
    const draft = await runIntoStore(runner, spec, corpus, { root, id: 'img', dtype: 'float32' });
    await draft.writer.finish(null);
    expect(draft.data.images).toEqual({ height: 32, width: 32, patch: 8, grid: [4, 4], specials: 3 });
    const reader = await RunReader.open(root, 'img');
    const pictures = (await reader.pictures())!;
    expect(pictures.length).toBe(4 * 32 * 32 * 3);
    corpus.pixels!.pictures.forEach((p, i) => expect(pictures.subarray(i * p.length, (i + 1) * p.length)).toEqual(p));
    // The square test image (64×64 stripes) resized to 36×36 and centre-cropped to 32×32: its rows still alternate.
    expect(Array.from(corpus.pixels!.pictures[1].subarray(0, 3))).not.toEqual(Array.from(corpus.pixels!.pictures[1].subarray(32 * 3 * 16, 32 * 3 * 16 + 3)));
    // A changed byte is refused.
    const file = (await (await root.folder('img'))!.open('pictures.bin'))!;
    const bytes = await file.read(0, file.size);
    bytes[100] ^= 1;
    const rewrite = await (await root.folder('img'))!.create('pictures.bin');
    await rewrite.write(bytes, 0);
    await rewrite.close();
    await expect((await RunReader.open(root, 'img')).pictures()).rejects.toThrow(/pictures do not match their checksum/);
  });

  it('refuses an empty corpus and a preprocessor that disagrees with the model, in words', async () => {
    const { spec, processor } = await model();
    expect(() => imageCorpus([], spec.image, processor)).toThrow(/the image corpus is empty: add at least one image/);
    expect(() => imageCorpus(images, { ...spec.image, size: [224, 224] }, processor)).toThrow(
      /the model takes 224×224 images but its preprocessor gives 32×32/,
    );
  });
});
