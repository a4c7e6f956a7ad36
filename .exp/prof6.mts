import { readFileSync } from 'node:fs';
import { parseCorpus } from '/work/main/lib/corpus/parse';
import { tokenizeCorpus } from '/work/main/lib/corpus/tokenize';
import { openNodeModel } from '/work/main/lib/node/model';
import { extractWindows } from '/work/main/lib/engine/extract';
import { HeadSums } from '/work/main/lib/analysis/sums';
import { plainAttention } from '/work/main/lib/data/attention';
import { MemoryStore } from '/work/main/lib/store/files';
import { RunWriter } from '/work/main/lib/store/runStore';
import { crc32 } from '/work/main/lib/io/crc32';
import { Moments } from '/work/main/lib/analysis/moments';
const model = await openNodeModel('/work/main/public/models/all-MiniLM-L6-v2');
const corpus = tokenizeCorpus(model.tokenizer, parseCorpus(readFileSync('/work/main/public/corpus/default.txt', 'utf8')).sentences, 512);
const D = 32,
  cells = 72;
const windows: any[] = [];
await extractWindows(model.runner, model.manifest, corpus, (w) => {
  windows.push({ ...w, queries: w.queries.slice(), keys: w.keys.slice(), sampled: { ...w.sampled, values: w.sampled.values.slice() } });
});
const starts = corpus.sentences.map((s) => s.start).concat([corpus.tokenCount]);
for (let r = 0; r < 3; r++) {
  const root = new MemoryStore();
  const writer = await RunWriter.begin(root, {
    id: 'x',
    shape: { model: 'm', layers: 6, heads: 12, headDim: D, kvHeads: 12, causal: false },
    attention: plainAttention(6, D),
    dtype: 'float32',
    sentences: corpus.sentences,
  });
  let t = performance.now();
  for (const w of windows) await writer.window(w);
  const write = performance.now() - t;
  t = performance.now();
  for (const w of windows) crc32(new Uint8Array(w.queries.buffer));
  const crc = performance.now() - t;
  const sums = Array.from({ length: cells }, () => new HeadSums(D, plainAttention(6, D)[0], false));
  let pair = 0,
    mom = 0;
  t = performance.now();
  for (const w of windows) {
    const ws = Int32Array.from({ length: w.sentenceEnd - w.sentenceStart + 1 }, (_, i) => starts[w.sentenceStart + i] - w.rowStart);
    for (let c = 0; c < cells; c++) {
      const q = w.queries.subarray(c * w.rows * D, (c + 1) * w.rows * D);
      const k = w.keys.subarray(c * w.rows * D, (c + 1) * w.rows * D);
      sums[c].add({ q, k, sentenceStarts: ws });
    }
  }
  const sumMs = performance.now() - t;
  const mo = Array.from({ length: cells }, () => ({ a: new Moments(D) }));
  t = performance.now();
  for (const w of windows)
    for (let c = 0; c < cells; c++) {
      mo[c].a.add(w.queries.subarray(c * w.rows * D, (c + 1) * w.rows * D));
      mo[c].a.add(w.keys.subarray(c * w.rows * D, (c + 1) * w.rows * D));
    }
  mom = performance.now() - t;
  console.log(`write ${write.toFixed(0)} ms (crc of queries alone ${crc.toFixed(0)}), sums ${sumMs.toFixed(0)} ms of which moments ≈ ${mom.toFixed(0)}`);
}
