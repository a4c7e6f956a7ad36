// Bundles: a stored run written as a bundle and read back keeps every array bit for bit (queries,
// keys per key head, rotated vectors, the model's sampled attention, layouts, head
// similarities), each head read in place and checked on its own; its figures and
// normalizations and the corpus exactly as given; float16 runs keep their float16 values; a
// format-1 file (keys per query head, every sentence's attention) still opens; and a changed
// byte, a cut file, another format version, a foreign file and a bundle too large for a tab are
// each refused with their own message.
import { describe, expect, it } from 'vitest';
import { analyzeHeads } from '../../../lib/analysis/analyze';
import { type HeadDistances, attentionDistances, geometryDistances } from '../../../lib/analysis/headSimilarity';
import { type BundleLayout, bundleBytes, planRunBundle, readRunBundle } from '../../../lib/run/bundleRun';
import { BundleError, readBundle, readBundleHeader, writeBundle } from '../../../lib/io/bundle';
import { type QueryKeyData, corpusLayout, headVectors, runDataOf, sampleOf } from '../../../lib/data/layout';
import { floatToHalf, fromFloat16, halfToFloat, toFloat16 } from '../../../lib/io/float16';
import { DEFAULT_PROJECTION, projectHeadVectors } from '../../../lib/projection/project';
import { MemoryStore } from '../../../lib/store/files';
import { RunReader, type VectorDtype, storeRun } from '../../../lib/store/runStore';
import { memoryVectors } from '../../../lib/store/vectors';
import type { RunResult } from '../../../lib/run/types';
import { randomData } from '../../helpers/randomHeads';

const same = (a: ArrayBufferView, b: ArrayBufferView) =>
  Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));

async function fixtureRun(options: Parameters<typeof randomData>[1] = 1) {
  const data = randomData(21, options);
  const analysis = await analyzeHeads(data);
  const result: Omit<RunResult, 'vectors'> = {
    manifest: {
      name: 'random',
      source: { kind: 'dir', path: '/x' },
      modelType: 'bert',
      layers: data.layers,
      heads: data.heads,
      headDim: data.headDim,
      hidden: 24,
      vocabSize: 10,
      maxTokens: 512,
      onnx: { file: 'model.onnx', bytes: 1, sha256: 'ab'.repeat(32), opset: 17 },
      converterVersion: 3,
    },
    device: { device: 'cpu' },
    data: runDataOf(data),
    analysis,
    notices: ['a notice'],
    timings: { tokenizeMs: 1, loadMs: 2, warmupMs: 3, extractMs: 4, analyzeMs: 5 },
    attentionError: 1e-7,
  };
  const cells = data.layers * data.heads;
  const layouts: BundleLayout[] = (['pca', 'umap'] as const).map((method) => ({
    mode: 'optimized',
    method,
    dims: 3,
    heads: Array.from({ length: cells }, (_, c) => {
      const { q, k } = headVectors(data, Math.floor(c / data.heads), c % data.heads);
      return projectHeadVectors(q, k, data.headDim, analysis.params.optimized[c], { ...DEFAULT_PROJECTION, method, epochs: 20 }).coords;
    }),
  }));
  const vectors = memoryVectors(data);
  return { data, result, layouts, similarities: [await attentionDistances(data, vectors), await geometryDistances(data, vectors, analysis.params.paper)] };
}

/** A run stored (as the page and the CLI store it) and written as a bundle. */
async function bundleOf(
  data: QueryKeyData,
  bundle: { result: Omit<RunResult, 'vectors'>; layouts: BundleLayout[]; similarities: HeadDistances[]; sentences?: string[] },
  options: { dtype?: VectorDtype; contents?: 'full' | 'views' } = {},
): Promise<Uint8Array> {
  const root = new MemoryStore();
  await storeRun(root, 'run', data, options.dtype ?? 'float32', null, 10);
  const vectors = await RunReader.open(root, 'run');
  const plan = planRunBundle(
    { ...bundle, vectors, label: 'Pasted text', sentences: bundle.sentences ?? data.sentences.map((s) => s.text) },
    { createdBy: 'test', contents: options.contents },
  );
  return bundleBytes(plan, await root.folder('run'));
}

describe('bundles', () => {
  it('round-trip every array bit for bit — each head read in place — and the figures, normalizations and model card', async () => {
    const { data, result, layouts, similarities } = await fixtureRun();
    const back = await readRunBundle(await bundleOf(data, { result, layouts, similarities }));
    const read = await back.vectors!.data();
    for (const key of ['queries', 'keys', 'sentenceStarts'] as const) expect(same(read[key], data[key]), key).toBe(true);
    for (const key of ['values', 'sentences', 'blocks'] as const)
      expect(same(back.result.data.attentionSample[key], data.attentionSample[key]), key).toBe(true);
    expect(back.result.data.attention).toEqual(data.attention);
    back.layouts.forEach((l, i) => {
      expect({ mode: l.mode, method: l.method, dims: l.dims }).toEqual({ mode: layouts[i].mode, method: layouts[i].method, dims: layouts[i].dims });
      l.heads.forEach((c, cell) => expect(same(c, layouts[i].heads[cell]), `layout ${i} head ${cell}`).toBe(true));
    });
    back.similarities.forEach((d, i) => expect(same(d.values, similarities[i].values)).toBe(true));
    expect(back.result.analysis.heads).toEqual(result.analysis.heads);
    for (const mode of ['raw', 'paper', 'optimized'] as const) {
      back.result.analysis.params[mode].forEach((p, c) => {
        expect(same(p.translation, result.analysis.params[mode][c].translation)).toBe(true);
        expect(p.scale).toBe(result.analysis.params[mode][c].scale);
      });
    }
    expect(back.result.manifest).toEqual(result.manifest);
    expect(back.result.data.sentences).toEqual(data.sentences);
    expect(back.label).toBe('Pasted text');
  });

  it('open their views only, and say so, when written without the vectors', async () => {
    const { data, result, layouts, similarities } = await fixtureRun();
    const full = await bundleOf(data, { result, layouts, similarities });
    const views = await bundleOf(data, { result, layouts, similarities }, { contents: 'views' });
    expect(views.byteLength).toBeLessThan(full.byteLength - data.queries.byteLength);
    const back = await readRunBundle(views);
    expect(back.viewsOnly).toMatch(/not the queries and keys \(written with --contents views\)/);
    expect(back.vectors).toBeNull();
    expect(back.result.data.tokenCount).toBe(data.tokenCount);
    back.layouts.forEach((l, i) => l.heads.forEach((c, cell) => expect(same(c, layouts[i].heads[cell])).toBe(true)));
    back.similarities.forEach((d, i) => expect(same(d.values, similarities[i].values)).toBe(true));
    expect((await readRunBundle(full)).viewsOnly).toBeNull();
  });

  it('keep the corpus exactly as given: a sentence with a newline or spaces at its edges comes back the same', async () => {
    const { data, result } = await fixtureRun();
    const corpus = ['  leading spaces', 'a line\nwith a newline inside', 'trailing tab\t', 'plain', ' both '];
    const back = await readRunBundle(await bundleOf(data, { result, layouts: [], similarities: [], sentences: corpus }));
    expect(back.sentences).toEqual(corpus);
  });

  it('keep grouped keys per key head and a run of unrotated vectors’ rotated ones', async () => {
    const { data, result } = await fixtureRun({ heads: 4, kvHeads: 2, causal: true });
    data.rotated = { queries: data.queries.map((v) => v + 1), keys: data.keys.map((v) => v - 1) };
    data.rotary = 'pre';
    const back = await readRunBundle(await bundleOf(data, { result: { ...result, data: runDataOf(data) }, layouts: [], similarities: [] }));
    const read = await back.vectors!.data();
    expect(read.keys.length).toBe(data.layers * 2 * data.tokenCount * data.headDim);
    expect(same(read.keys, data.keys)).toBe(true);
    expect(same(read.rotated!.queries, data.rotated.queries)).toBe(true);
    expect(same(read.rotated!.keys, data.rotated.keys)).toBe(true);
    expect(back.result.data.causal).toBe(true);
    expect(back.result.data.rotary).toBe('pre');
  });

  it('keep values and value norms a head at a time (checked), and say the run has them; a views bundle leaves them out', async () => {
    const { data, result } = await fixtureRun();
    data.values = data.keys.map((v) => 1 - v);
    data.valueNorms = Float32Array.from({ length: data.layers * data.heads * data.tokenCount }, (_, i) => 1 + Math.sin(i));
    const bundle = { result: { ...result, data: runDataOf(data) }, layouts: [], similarities: [] };
    const back = await readRunBundle(await bundleOf(data, bundle));
    expect(back.result.data.hasValueNorms).toBe(true);
    expect(same((await back.vectors!.data()).valueNorms!, data.valueNorms)).toBe(true);
    expect(same((await back.vectors!.data()).values!, data.values)).toBe(true);
    expect(same((await back.vectors!.valueNorms(3))!, data.valueNorms.subarray(3 * data.tokenCount, 4 * data.tokenCount))).toBe(true);
    const views = await readRunBundle(await bundleOf(data, bundle, { contents: 'views' }));
    expect(views.result.data.hasValueNorms).toBeUndefined();
    // A run without them opens without them.
    delete data.valueNorms;
    delete data.values;
    expect((await readRunBundle(await bundleOf(data, { ...bundle, result: { ...result, data: runDataOf(data) } }))).result.data.hasValueNorms).toBeUndefined();
  });

  it('open a format-1 bundle: keys per query head become per key head, every sentence’s attention becomes the sample', async () => {
    const { data: d, result } = await fixtureRun({ heads: 4, kvHeads: 2 });
    const rows = d.tokenCount * d.headDim;
    // Format 1 as the CLI wrote it: keys repeated for each query head, attention of every sentence.
    const repeated = new Float32Array(d.layers * d.heads * rows);
    for (let l = 0; l < d.layers; l++) for (let h = 0; h < d.heads; h++) repeated.set(headVectors(d, l, h).k, (l * d.heads + h) * rows);
    const lengths = d.sentences.map((s) => s.ids.length);
    const pairs = corpusLayout(lengths).pairCount;
    const meta = {
      kind: 'qkviz-run',
      createdAt: 'then',
      createdBy: 'qkviz 0.1.0 (CLI)',
      label: 'old',
      manifest: result.manifest,
      device: result.device,
      timings: result.timings,
      attentionError: 1e-7,
      notices: [],
      data: {
        model: d.model,
        layers: d.layers,
        heads: d.heads,
        headDim: d.headDim,
        kvHeads: 2,
        sentences: d.sentences.map((s) => ({ text: s.text, tokens: s.tokens, ids: s.ids })),
      },
      analysis: {
        heads: result.analysis.heads,
        params: Object.fromEntries(
          (['raw', 'paper', 'optimized'] as const).map((m) => [
            m,
            result.analysis.params[m].map((p) => ({ translation: Array.from(p.translation), scale: p.scale })),
          ]),
        ),
        attentionCheck: result.analysis.attentionCheck,
      },
      vectors: 'float32',
      contents: 'full',
      layouts: [],
      similarities: [],
    };
    const bytes = writeBundle(
      meta,
      [
        { name: 'queries', dtype: 'float32', shape: [d.layers, d.heads, d.tokenCount, d.headDim], data: d.queries },
        { name: 'keys', dtype: 'float32', shape: [d.layers, d.heads, d.tokenCount, d.headDim], data: repeated },
        { name: 'attention', dtype: 'float32', shape: [d.layers, d.heads, pairs], data: d.attentionSample.values },
      ],
      1,
    );
    const back = await readRunBundle(bytes);
    expect(back.vectors).toBeNull();
    expect(same(back.legacy!.keys, d.keys)).toBe(true);
    expect(same(back.legacy!.queries, d.queries)).toBe(true);
    expect(back.result.data.attentionSample.sentences.length).toBe(d.sentences.length);
    expect(same(sampleOf(back.result.data.attentionSample, 5), sampleOf(d.attentionSample, 5))).toBe(true);
    expect(back.sentences).toEqual(d.sentences.map((s) => s.text));
  });

  it('keep non-finite numbers in the description', () => {
    const bytes = writeBundle({ a: NaN, b: [Infinity, -Infinity, 1.5], c: { $number: 3 } }, [
      { name: 'x', dtype: 'int32', shape: [2], data: Int32Array.of(-7, 9) },
    ]);
    const back = readBundle<{ a: number; b: number[]; c: unknown }>(bytes);
    expect(back.meta.a).toBeNaN();
    expect(back.meta.b).toEqual([Infinity, -Infinity, 1.5]);
    expect(back.meta.c).toEqual({ $number: 3 });
    expect(Array.from(back.arrays.get('x')!.data)).toEqual([-7, 9]);
  });

  it('store float16 vectors exactly as the run store kept them, within half precision of the run', async () => {
    const { data, result } = await fixtureRun();
    const back = await readRunBundle(await bundleOf(data, { result, layouts: [], similarities: [] }, { dtype: 'float16' }));
    const read = await back.vectors!.data();
    expect(same(read.queries, fromFloat16(toFloat16(data.queries)))).toBe(true);
    for (let i = 0; i < data.queries.length; i++) {
      const want = data.queries[i];
      expect(Math.abs(read.queries[i] - want)).toBeLessThanOrEqual(Math.abs(want) * 2 ** -11 + 2 ** -24);
    }
  });

  it('float16: every half round-trips, rounding is to the nearest half, and a whole array converts as each value does', () => {
    const values = Float32Array.from({ length: 20000 }, (_, i) => (Math.sin(i) * 40) ** 3 * (i % 5 === 0 ? 1e-7 : 1));
    values.set([65519, 65520, 1e-8, -0, Infinity, -Infinity, NaN, 2 ** -14, 2 ** -15, 2 ** -24], 0);
    const halves = toFloat16(values);
    for (let i = 0; i < values.length; i++) expect(halves[i]).toBe(floatToHalf(values[i]));
    for (let h = 0; h < 65536; h++) {
      const f = halfToFloat(h);
      if (Number.isNaN(f)) continue;
      expect(floatToHalf(f)).toBe(h === 0x8000 ? 0x8000 : h);
    }
    for (const x of [1 + 2 ** -11, 1 + 3 * 2 ** -11, 65519, 1e-8, -2.5e-5, 0.1]) {
      const got = halfToFloat(floatToHalf(x));
      // No half is closer to x than the one chosen.
      for (let h = 0; h < 65536; h++) {
        const f = halfToFloat(h);
        if (Number.isFinite(f)) expect(Math.abs(f - x)).toBeGreaterThanOrEqual(Math.abs(got - x) - 1e-30);
      }
    }
  });

  it('refuse a changed byte (when its head is read), a cut file, another version, a foreign file and an oversized run, each in words', async () => {
    const { data, result, layouts } = await fixtureRun();
    const bytes = await bundleOf(data, { result, layouts, similarities: [] });
    const error = async (b: Uint8Array, limit?: number) => {
      try {
        await readRunBundle(b, limit);
      } catch (e) {
        expect(e).toBeInstanceOf(BundleError);
        return e as BundleError;
      }
      throw new Error('no error');
    };
    // A changed byte in a layout: refused when the bundle opens (its views are read whole).
    const flipped = bytes.slice();
    flipped[flipped.length - 10] ^= 0x01;
    expect((await error(flipped)).message).toMatch(/corrupt: layout1 does not match its checksum/);
    // A changed byte in head 4's queries: the bundle opens, that head is refused when read.
    const header = readBundleHeader<unknown>(bytes);
    const queries = header.infos.find((i) => i.name === 'queries')!;
    const inHead = bytes.slice();
    inHead[header.dataStart + queries.offset + 4 * data.tokenCount * data.headDim * 4 + 5] ^= 0x04;
    const opened = await readRunBundle(inHead);
    await expect(opened.vectors!.head(3)).resolves.toBeDefined();
    await expect(opened.vectors!.head(4)).rejects.toThrow(/queries of head 4 does not match its checksum/);
    const changedHeader = bytes.slice();
    changedHeader[40] ^= 0x20;
    expect((await error(changedHeader)).message).toMatch(/corrupt: its header/);
    expect((await error(bytes.slice(0, bytes.length - 100))).message).toMatch(/truncated: layout1 runs to byte [\d,]+, the file has [\d,]+/);
    const newer = bytes.slice();
    new DataView(newer.buffer).setUint32(8, 3, true);
    expect((await error(newer)).message).toMatch(/format 3, made by a newer QKViz; this page reads format 2/);
    expect((await error(new TextEncoder().encode('{"not": "a bundle"} padding padding'))).code).toBe('not-a-bundle');
    expect((await error(bytes, 1000)).message).toMatch(/layouts alone \(.* tokens, 2 × 3 heads\) need about .* over the 1 KB a browser tab can safely hold/);
  });
});
