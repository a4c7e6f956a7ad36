import { readFileSync } from 'node:fs';
import { parseCorpus } from '/work/main/lib/corpus/parse';
import { tokenizeCorpus } from '/work/main/lib/corpus/tokenize';
import { openNodeModel } from '/work/main/lib/node/model';
import { extractWindows, extractQueryKeys } from '/work/main/lib/engine/extract';
import { HeadSums } from '/work/main/lib/analysis/sums';
import { projectOnPca, pcaOfMoments } from '/work/main/lib/projection/pcaMoments';
import { plainAttention } from '/work/main/lib/data/attention';
import { MemoryStore } from '/work/main/lib/store/files';
import { RunWriter } from '/work/main/lib/store/runStore';
const model = await openNodeModel('/work/main/public/models/all-MiniLM-L6-v2');
const text = readFileSync('/work/main/public/corpus/default.txt', 'utf8');
const corpus = tokenizeCorpus(model.tokenizer, parseCorpus(text).sentences, 512);
const m = model.manifest;
const D = 32;
const cells = 72;
for (let r = 0; r < 3; r++) {
  let t = performance.now();
  await extractWindows(model.runner, m, corpus, () => {});
  const plain = performance.now() - t;
  const sums = Array.from({ length: cells }, (_, c) => new HeadSums(D, plainAttention(6, D)[0], false));
  const keys: Float32Array[] = Array.from({ length: cells }, () => new Float32Array(corpus.tokenCount * D));
  const qs: Float32Array[] = Array.from({ length: cells }, () => new Float32Array(corpus.tokenCount * D));
  const root = new MemoryStore();
  const writer = await RunWriter.begin(root, {
    id: 'x',
    shape: { model: 'm', layers: 6, heads: 12, headDim: D, kvHeads: 12, causal: false },
    attention: plainAttention(6, D),
    dtype: 'float32',
    sentences: corpus.sentences,
  });
  let sumMs = 0,
    writeMs = 0;
  t = performance.now();
  const starts = corpus.sentences.map((s) => s.start).concat([corpus.tokenCount]);
  await extractWindows(model.runner, m, corpus, async (w) => {
    let u = performance.now();
    await writer.window(w);
    writeMs += performance.now() - u;
    u = performance.now();
    const ws = Int32Array.from({ length: w.sentenceEnd - w.sentenceStart + 1 }, (_, i) => starts[w.sentenceStart + i] - w.rowStart);
    for (let c = 0; c < cells; c++) {
      const q = w.queries.subarray(c * w.rows * D, (c + 1) * w.rows * D);
      const k = w.keys.subarray(c * w.rows * D, (c + 1) * w.rows * D);
      sums[c].add({ q, k, sentenceStarts: ws });
      qs[c].set(q, w.rowStart * D);
      keys[c].set(k, w.rowStart * D);
    }
    sumMs += performance.now() - u;
  });
  const extractStage = performance.now() - t;
  t = performance.now();
  for (let c = 0; c < cells; c++) {
    const f = sums[c].finish(keys[c]);
    const p = pcaOfMoments(f.moments.q, f.moments.k, f.params.optimized, 3);
    projectOnPca(qs[c], keys[c], D, f.params.optimized, p, 3);
  }
  const finish = performance.now() - t;
  console.log(
    `plain extraction ${plain.toFixed(0)} ms; with store+sums ${extractStage.toFixed(0)} (write ${writeMs.toFixed(0)}, sums ${sumMs.toFixed(0)}); finish+PCA ${finish.toFixed(0)} → ${((extractStage + finish) / plain).toFixed(2)}×`,
  );
}
