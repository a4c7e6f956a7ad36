import { readFileSync } from 'node:fs';
import { parseCorpus } from '/work/main/lib/corpus/parse';
import { tokenizeCorpus } from '/work/main/lib/corpus/tokenize';
import { openNodeModel } from '/work/main/lib/node/model';
import { extractWindows } from '/work/main/lib/engine/extract';
const model = await openNodeModel('/work/main/public/models/all-MiniLM-L6-v2');
const corpus = tokenizeCorpus(model.tokenizer, parseCorpus(readFileSync('/work/main/public/corpus/default.txt', 'utf8')).sentences, 512);
let runMs = 0;
const runner = {
  ...model.runner,
  inputNames: model.runner.inputNames,
  report: model.runner.report,
  run: async (f: any, o: any) => {
    const t = performance.now();
    const r = await model.runner.run(f, o);
    runMs += performance.now() - t;
    return r;
  },
  release: () => model.runner.release(),
};
for (let r = 0; r < 4; r++) {
  runMs = 0;
  const t = performance.now();
  await extractWindows(runner as any, model.manifest, corpus, () => {});
  const total = performance.now() - t;
  console.log(`total ${total.toFixed(0)} ms, model.run ${runMs.toFixed(0)} ms, rest ${(total - runMs).toFixed(0)} ms`);
}
