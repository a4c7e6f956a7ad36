import { readFileSync } from 'node:fs';
import { parseCorpus } from '/work/main/lib/corpus/parse';
import { tokenizeCorpus } from '/work/main/lib/corpus/tokenize';
import { openNodeModel } from '/work/main/lib/node/model';
import { extractQueryKeys } from '/work/main/lib/engine/extract';
import { HeadPairs } from '/work/main/lib/analysis/pairs';
import { optimizedAlong } from '/work/main/lib/analysis/optimize';
import { headVectors } from '/work/main/lib/data/layout';
import { analyzeHeads } from '/work/main/lib/analysis/analyze';
import { pcaLayouts } from '/work/main/lib/projection/pcaViews';
const model = await openNodeModel('/work/main/public/models/all-MiniLM-L6-v2');
const corpus = tokenizeCorpus(model.tokenizer, parseCorpus(readFileSync('/work/main/public/corpus/default.txt', 'utf8')).sentences, 512);
const data = await extractQueryKeys(model.runner, 'x', model.manifest, corpus);
for (let r = 0; r < 3; r++) {
  let tPairs = 0,
    tFig = 0,
    tOpt = 0;
  for (let c = 0; c < 72; c++) {
    const { q, k } = headVectors(data, Math.floor(c / 12), c % 12);
    let t = performance.now();
    const p = new HeadPairs(q, k, 32, data.sentenceStarts, { spec: data.attention[0] });
    tPairs += performance.now() - t;
    t = performance.now();
    const a = optimizedAlong(p);
    tOpt += performance.now() - t;
    t = performance.now();
    p.figuresAlong(0, 1);
    p.figuresAlong(1, p.paperScale());
    p.figuresAlong(a.alpha, a.scale);
    tFig += performance.now() - t;
    p.release();
  }
  let t = performance.now();
  const an = await analyzeHeads(data);
  const tAll = performance.now() - t;
  t = performance.now();
  await pcaLayouts(data, an.params, [{ mode: 'optimized', dims: 3 }]);
  const tPca = performance.now() - t;
  console.log(
    `pairs ${tPairs.toFixed(0)} ms, optimize ${tOpt.toFixed(0)}, figures(3) ${tFig.toFixed(0)}, analyzeHeads ${tAll.toFixed(0)}, pca ${tPca.toFixed(0)}`,
  );
}
