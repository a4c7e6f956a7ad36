import { readFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseCorpus } from '/work/main/lib/corpus/parse';
import { tokenizeCorpus } from '/work/main/lib/corpus/tokenize';
import { openNodeModel } from '/work/main/lib/node/model';
import { extractWindows } from '/work/main/lib/engine/extract';
import { runIntoStore } from '/work/main/lib/run/pipeline';
import { FileStore } from '/work/main/lib/node/fileStore';
const model = await openNodeModel('/work/main/public/models/all-MiniLM-L6-v2');
const text = readFileSync('/work/main/public/corpus/default.txt', 'utf8');
const corpus = tokenizeCorpus(model.tokenizer, parseCorpus(text).sentences, 512);
const root = new FileStore(mkdtempSync(join(tmpdir(), 'p5-')));
for (let r = 0; r < 3; r++) {
  let t = performance.now();
  await extractWindows(model.runner, model.manifest, corpus, () => {});
  const plain = performance.now() - t;
  t = performance.now();
  const d = await runIntoStore(model.runner, model.manifest, corpus, { root, id: 'r' + r, dtype: 'float32', pca: [{ mode: 'optimized', dims: 3 }] });
  const total = performance.now() - t;
  console.log(
    `plain ${plain.toFixed(0)} ms · store run: extract ${d.extractMs.toFixed(0)} (model ${d.times.modelMs.toFixed(0)}, store+sums ${d.times.sinkMs.toFixed(0)}), finish ${d.analyzeMs.toFixed(0)} → total ${total.toFixed(0)} = ${(total / plain).toFixed(2)}× plain`,
  );
}
