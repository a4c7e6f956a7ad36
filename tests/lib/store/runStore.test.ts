// The run store, in memory and on disk: a run written window by window reads back bit for bit
// (float32) or within half precision (float16, and a PCA view drawn from those vectors stays
// within a stated distance of the float32 one); grouped keys, rotated vectors and the attention
// sample come back, and value norms a head at a time; a head whose bytes changed is refused by its checksum; a run cut off
// mid-write (no run.json) opens as "not finished", never as a shorter run; a full store fails
// the write in words and leaves nothing behind.
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { analyzeHeads } from '../../../lib/analysis/analyze';
import { headValues, headVectors, sampleOf } from '../../../lib/data/layout';
import { fromFloat16, toFloat16 } from '../../../lib/io/float16';
import { FileStore } from '../../../lib/node/fileStore';
import { projectHeadVectors, DEFAULT_PROJECTION } from '../../../lib/projection/project';
import { MemoryStore, QuotaError, type StoreRoot } from '../../../lib/store/files';
import { RunCorruptError, RunReader, RunUnfinishedError, RunWriter, listRuns, storeRun } from '../../../lib/store/runStore';
import { randomData } from '../../helpers/randomHeads';

const stores: [string, () => StoreRoot][] = [
  ['memory', () => new MemoryStore()],
  ['disk', () => new FileStore(mkdtempSync(join(tmpdir(), 'qkviz-store-')))],
];

describe.each(stores)('the run store (%s)', (_, make) => {
  it('reads back every head bit for bit (float32), with grouped keys, rotated vectors, the sample and the caller’s record', async () => {
    const root = make();
    const data = randomData(31, { heads: 4, kvHeads: 2, causal: true });
    data.rotated = { queries: data.queries.map((v) => v * 2), keys: data.keys.map((v) => v - 1) };
    data.rotary = 'pre';
    // Windows of 10 rows: the 36 tokens go in four.
    const record = await storeRun(root, 'r1', data, 'float32', { label: 'test' }, 10);
    expect(record.checksums.queries).toHaveLength(8);
    expect(record.checksums.keys).toHaveLength(4);
    const reader = await RunReader.open<{ label: string }>(root, 'r1');
    expect(reader.record.extra).toEqual({ label: 'test' });
    for (let cell = 0; cell < 8; cell++) {
      const want = headVectors(data, Math.floor(cell / 4), cell % 4);
      const got = await reader.head(cell);
      expect(got.q).toEqual(want.q);
      expect(got.k).toEqual(want.k);
      const rotated = await reader.attentionHead(cell);
      expect(rotated.q).toEqual(want.q.map((v) => v * 2));
    }
    const s = await reader.sentence(5, 3);
    const rows = data.sentenceStarts[4] - data.sentenceStarts[3];
    expect(s.q).toEqual(headVectors(data, 1, 1).q.subarray(data.sentenceStarts[3] * 8, data.sentenceStarts[4] * 8));
    expect(s.q.length).toBe(rows * 8);
    const back = await reader.data();
    expect(back.queries).toEqual(data.queries);
    expect(back.keys).toEqual(data.keys);
    expect(back.rotated!.keys).toEqual(data.rotated.keys);
    expect(sampleOf(back.attentionSample, 6)).toEqual(sampleOf(data.attentionSample, 6));
    expect(back.sentences).toEqual(data.sentences);
    expect((await listRuns(root)).runs.map((r) => r.id)).toEqual(['r1']);
  });

  it('keeps float16 vectors within half precision, and a PCA view of them within 0.5% of the cell’s radius of the float32 one', async () => {
    const root = make();
    const data = randomData(32);
    await storeRun(root, 'half', data, 'float16', null);
    const reader = await RunReader.open(root, 'half');
    const analysis = await analyzeHeads(data);
    let view = 0;
    for (let cell = 0; cell < 6; cell++) {
      const want = headVectors(data, Math.floor(cell / 3), cell % 3);
      const got = await reader.head(cell);
      expect(got.q).toEqual(fromFloat16(toFloat16(want.q)));
      for (let i = 0; i < want.q.length; i++) expect(Math.abs(got.q[i] - want.q[i])).toBeLessThanOrEqual(Math.abs(want.q[i]) * 2 ** -11 + 2 ** -24);
      const params = { ...DEFAULT_PROJECTION, method: 'pca' as const };
      const exact = projectHeadVectors(want.q, want.k, 8, analysis.params.optimized[cell], params).coords;
      const half = projectHeadVectors(got.q, got.k, 8, analysis.params.optimized[cell], params).coords;
      for (let i = 0; i < exact.length; i++) view = Math.max(view, Math.abs(exact[i] - half[i]));
    }
    console.log(`[qkviz] float16 store: PCA layouts within ${view.toExponential(2)} of float32 (unit-ball cells)`);
    expect(view).toBeLessThan(5e-3);
  });

  it('opens a run cut off mid-write as not finished, never as a shorter run', async () => {
    const root = make();
    const data = randomData(33);
    await storeRun(root, 'whole', data, 'float32', null);
    const writer = await RunWriter.begin(root, {
      id: 'cut',
      shape: { model: 'random', layers: 2, heads: 3, headDim: 8, kvHeads: 3, causal: false },
      attention: data.attention,
      dtype: 'float32',
      sentences: data.sentences,
    });
    const rows = data.sentenceStarts[2];
    const cut = (values: Float32Array) => {
      const out = new Float32Array(6 * rows * 8);
      for (let c = 0; c < 6; c++) out.set(values.subarray(c * data.tokenCount * 8, (c * data.tokenCount + rows) * 8), c * rows * 8);
      return out;
    };
    await writer.window({ rowStart: 0, rows, queries: cut(data.queries), keys: cut(data.keys) });
    // The tab closes here: run.json is never written.
    await expect(RunReader.open(root, 'cut')).rejects.toThrow(RunUnfinishedError);
    await expect(RunReader.open(root, 'cut')).rejects.toThrow(/was not finished \(it was cut off while it was written/);
    // Finishing with rows missing is refused too.
    await expect(writer.finish(null)).rejects.toThrow(/holds 14 of 36 token rows/);
    const listed = await listRuns(root);
    expect(listed.runs.map((r) => r.id)).toEqual(['whole']);
    expect(listed.unfinished).toEqual(['cut']);
  });

  it('keeps values and value norms a head at a time beside the vectors, checked by their own checksums', async () => {
    const root = make();
    const data = randomData(35, { heads: 4, kvHeads: 2 });
    data.values = data.keys.map((v) => v * 0.5 - 0.25);
    data.valueNorms = Float32Array.from({ length: 8 * data.tokenCount }, (_, i) => 0.5 + ((i * 7919) % 101) / 37);
    await storeRun(root, 'v', data, 'float16', null, 10);
    const reader = await RunReader.open(root, 'v');
    expect(reader.hasValueNorms).toBe(true);
    for (let cell = 0; cell < 8; cell++) {
      expect(await reader.valueNorms(cell)).toEqual(data.valueNorms.subarray(cell * data.tokenCount, (cell + 1) * data.tokenCount));
      // Values go per key head, stored in the run's precision (float16 here).
      expect(await reader.values(cell)).toEqual(fromFloat16(toFloat16(headValues(data, cell)!)));
    }
    // One sentence's rows, as the sentence view reads them.
    const [r0, r1] = [data.sentenceStarts[3], data.sentenceStarts[4]];
    expect(await reader.valueNorms(4, r0, r1 - r0)).toEqual(data.valueNorms.subarray(4 * data.tokenCount + r0, 4 * data.tokenCount + r1));
    expect((await reader.data()).valueNorms).toEqual(data.valueNorms);
    expect((await reader.data()).values).toEqual(fromFloat16(toFloat16(data.values)));
    // A run without them says so.
    await storeRun(root, 'plain', randomData(36), 'float32', null);
    const plain = await RunReader.open(root, 'plain');
    expect(plain.hasValueNorms).toBe(false);
    expect(await plain.valueNorms(0)).toBeNull();
    expect(await plain.values(0)).toBeNull();
    // A changed byte is refused.
    const folder = (await root.folder('v'))!;
    const file = (await folder.open('value-norms.bin'))!;
    const bytes = await file.read(0, file.size);
    bytes[4 * data.tokenCount * 5 + 3] ^= 1;
    const rewrite = await folder.create('value-norms.bin');
    await rewrite.write(bytes, 0);
    await rewrite.close();
    const again = await RunReader.open(root, 'v');
    await expect(again.valueNorms(4)).resolves.toBeDefined();
    await expect(again.valueNorms(5)).rejects.toThrow(/value-norms of head 5 does not match its checksum/);
  });

  it('refuses a head whose bytes changed on disk, by its checksum', async () => {
    const root = make();
    const data = randomData(34);
    await storeRun(root, 'x', data, 'float32', null);
    const folder = (await root.folder('x'))!;
    const file = (await folder.open('queries.bin'))!;
    const bytes = await file.read(0, file.size);
    bytes[8 * 4 * data.tokenCount * 2 + 17] ^= 1; // a byte of head 2
    const rewrite = await folder.create('queries.bin');
    await rewrite.write(bytes, 0);
    await rewrite.close();
    const reader = await RunReader.open(root, 'x');
    await expect(reader.head(1)).resolves.toBeDefined();
    await expect(reader.head(2)).rejects.toThrow(RunCorruptError);
    await expect(reader.head(2)).rejects.toThrow(/queries of head 2 does not match its checksum/);
  });
});

describe('a full store', () => {
  it('fails the write in words and leaves nothing behind', async () => {
    const root = new MemoryStore(2000);
    const data = randomData(35);
    await expect(storeRun(root, 'big', data, 'float32', null)).rejects.toThrow(QuotaError);
    expect(await root.folders()).toEqual([]);
  });

  it('on disk: an unfinished folder holds vectors but no run.json', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'qkviz-store-'));
    const root = new FileStore(dir);
    await storeRun(root, 'done', randomData(36), 'float16', null);
    expect(readdirSync(join(dir, 'done')).sort()).toEqual(['attention-sample.bin', 'keys.bin', 'queries.bin', 'run.json']);
    writeFileSync(join(dir, 'done', 'run.json'), '{"format": "qkviz-run-store", "compl');
    await expect(RunReader.open(root, 'done')).rejects.toThrow(/record is damaged/);
  });
});
