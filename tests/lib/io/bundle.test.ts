// Bundles: a run written and read back keeps every array bit for bit (queries, keys, attention,
// layouts, head similarities) and its figures and normalizations; float16 bundles keep the
// float16 values exactly; and a changed byte, a cut file, another format version, a foreign
// file and a run too large for a tab are each refused with their own message.
import { describe, expect, it } from 'vitest';
import { analyzeHeads } from '../../../lib/analysis/analyze';
import { attentionDistances, geometryDistances } from '../../../lib/analysis/headSimilarity';
import { type BundleLayout, readRunBundle, runBundleBytes } from '../../../lib/engine/bundleRun';
import { BundleError, readBundle, writeBundle } from '../../../lib/io/bundle';
import { estimateRunBytes } from '../../../lib/engine/memory';
import { floatToHalf, fromFloat16, halfToFloat, toFloat16 } from '../../../lib/io/float16';
import { jointVectors, projectHead, DEFAULT_PROJECTION } from '../../../lib/projection/project';
import type { RunResult } from '../../../lib/protocol/model';
import { randomData } from '../../helpers/randomHeads';

const same = (a: ArrayBufferView, b: ArrayBufferView) =>
  Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));

async function fixtureRun() {
  const data = randomData(21);
  const analysis = await analyzeHeads(data);
  const result: RunResult = {
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
    data,
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
    heads: Array.from(
      { length: cells },
      (_, c) =>
        projectHead(jointVectors(data, Math.floor(c / data.heads), c % data.heads, analysis.params.optimized[c]), data.headDim, {
          ...DEFAULT_PROJECTION,
          method,
          epochs: 20,
        }).coords,
    ),
  }));
  return { result, layouts, similarities: [attentionDistances(data), geometryDistances(data, analysis.params.paper)] };
}

describe('bundles', () => {
  it('round-trip every array bit for bit, and the figures, normalizations and model card', async () => {
    const { result, layouts, similarities } = await fixtureRun();
    const bytes = runBundleBytes(
      { result, label: 'Pasted text', sentences: result.data.sentences.map((s) => s.text), layouts, similarities },
      { createdBy: 'test' },
    );
    const back = await readRunBundle(bytes);
    for (const key of ['queries', 'keys', 'attention', 'sentenceStarts', 'attentionStarts'] as const)
      expect(same(back.result.data[key], result.data[key]), key).toBe(true);
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
    expect(back.result.data.sentences).toEqual(result.data.sentences);
    expect(back.label).toBe('Pasted text');
  });

  it('open their views only, and say so, when the vectors are left out or do not fit', async () => {
    const { result, layouts, similarities } = await fixtureRun();
    const full = runBundleBytes({ result, label: 'x', sentences: [], layouts, similarities }, { createdBy: 'test' });
    const views = runBundleBytes({ result, label: 'x', sentences: [], layouts, similarities }, { createdBy: 'test', contents: 'views' });
    expect(views.byteLength).toBeLessThan(full.byteLength - result.data.queries.byteLength);
    const layoutBytes = layouts.reduce((a, l) => a + l.heads.reduce((b, c) => b + c.byteLength, 0), 0);
    // A limit that holds the layouts (and similarities and tokens) but not the vectors.
    const cells = result.data.layers * result.data.heads;
    const limit = layoutBytes + 2 * cells * cells * 4 + 64 * result.data.tokenCount + 100;
    expect(limit).toBeLessThan(
      estimateRunBytes(
        result.data,
        result.data.sentences.map((s) => s.ids.length),
      ).bytes,
    );
    for (const [bytes, why] of [
      [views, /not the queries, keys and attention \(written with --contents views\)/],
      [full, /needs about .* with its queries, keys and attention, over the .* a tab can safely hold/],
    ] as const) {
      const back = await readRunBundle(bytes, limit);
      expect(back.viewsOnly).toMatch(why);
      expect(back.result.data.queries.length).toBe(0);
      expect(back.result.data.tokenCount).toBe(result.data.tokenCount);
      back.layouts.forEach((l, i) => l.heads.forEach((c, cell) => expect(same(c, layouts[i].heads[cell])).toBe(true)));
      back.similarities.forEach((d, i) => expect(same(d.values, similarities[i].values)).toBe(true));
    }
    expect((await readRunBundle(full)).viewsOnly).toBeNull();
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

  it('store float16 vectors exactly as float16, within half precision of the run', async () => {
    const { result } = await fixtureRun();
    const back = await readRunBundle(
      runBundleBytes({ result, label: 'x', sentences: [], layouts: [], similarities: [] }, { createdBy: 'test', float16: true }),
    );
    expect(same(back.result.data.queries, fromFloat16(toFloat16(result.data.queries)))).toBe(true);
    for (let i = 0; i < result.data.queries.length; i++) {
      const want = result.data.queries[i];
      expect(Math.abs(back.result.data.queries[i] - want)).toBeLessThanOrEqual(Math.abs(want) * 2 ** -11 + 2 ** -24);
    }
  });

  it('float16: every half round-trips, and rounding is to the nearest half', () => {
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

  it('refuse a changed byte, a cut file, another version, a foreign file and an oversized run, each in words', async () => {
    const { result } = await fixtureRun();
    const bytes = runBundleBytes({ result, label: 'x', sentences: [], layouts: [], similarities: [] }, { createdBy: 'test' });
    const error = async (b: Uint8Array, limit?: number) => {
      try {
        await readRunBundle(b, limit);
      } catch (e) {
        expect(e).toBeInstanceOf(BundleError);
        return e as BundleError;
      }
      throw new Error('no error');
    };
    const flipped = bytes.slice();
    flipped[flipped.length - 10] ^= 0x01;
    expect((await error(flipped)).message).toMatch(/corrupt: attention does not match its checksum/);
    const header = bytes.slice();
    header[40] ^= 0x20;
    expect((await error(header)).message).toMatch(/corrupt: its header/);
    expect((await error(bytes.slice(0, bytes.length - 100))).message).toMatch(/truncated: attention runs to byte [\d,]+, the file has [\d,]+/);
    const newer = bytes.slice();
    new DataView(newer.buffer).setUint32(8, 2, true);
    expect((await error(newer)).message).toMatch(/format 2, made by a newer QKViz; this page reads format 1/);
    expect((await error(new TextEncoder().encode('{"not": "a bundle"} padding padding'))).code).toBe('not-a-bundle');
    expect((await error(bytes, 1000)).message).toMatch(/layouts alone \(.* tokens, 2 × 3 heads\) need about .* over the 1 KB a browser tab can safely hold/);
  });
});
