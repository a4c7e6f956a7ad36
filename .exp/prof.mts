import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseCorpus } from '/work/main/lib/corpus/parse';
import { tokenizeCorpus } from '/work/main/lib/corpus/tokenize';
import { openNodeModel } from '/work/main/lib/node/model';
import { extractWindows, extractQueryKeys } from '/work/main/lib/engine/extract';
import { forwardPass } from '/work/main/lib/bench/extraction';
import { keyOutput, queryOutput } from '/work/main/lib/model/outputs';
const model = await openNodeModel('/work/main/public/models/all-MiniLM-L6-v2');
const corpus = tokenizeCorpus(model.tokenizer, parseCorpus(readFileSync('/work/main/public/corpus/default.txt', 'utf8')).sentences, 512);
const outs = Array.from({ length: 6 }, (_, l) => [queryOutput(l), keyOutput(l)]).flat();
for (let r = 0; r < 3; r++) {
  let t = performance.now();
  await forwardPass(model.runner, corpus, outs);
  const qk = performance.now() - t;
  t = performance.now();
  await extractWindows(model.runner, model.manifest, corpus, () => {}, { sample: new Int32Array(0) });
  const win = performance.now() - t;
  t = performance.now();
  await extractWindows(model.runner, model.manifest, corpus, () => {});
  const winS = performance.now() - t;
  t = performance.now();
  await extractQueryKeys(model.runner, 'x', model.manifest, corpus);
  const full = performance.now() - t;
  console.log({ qkOnly: qk.toFixed(0), windowsNoSample: win.toFixed(0), windowsSample: winS.toFixed(0), full: full.toFixed(0) });
}
