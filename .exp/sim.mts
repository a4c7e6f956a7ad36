import { readFileSync } from 'node:fs';
import { readExtractionFiles } from '../lib/engine/exportFiles.ts';
import { decodeNpy } from '../lib/io/npy.ts';
import { attentionDistances, geometryDistances, nearestHeads } from '../lib/analysis/headSimilarity.ts';
import { analyzeHeads } from '../lib/analysis/analyze.ts';
const r = (f: string) => decodeNpy(new Uint8Array(readFileSync('/tmp/dx/' + f))).data;
const data = readExtractionFiles(readFileSync('/tmp/dx/tokens.json', 'utf8'), r('queries.npy'), r('keys.npy'), r('attention.npy'));
let t = performance.now();
const a = attentionDistances(data);
console.log('attention', (performance.now() - t).toFixed(0), 'ms rows', a.sampled, '/', a.total);
const an = await analyzeHeads(data);
t = performance.now();
const g = geometryDistances(data, an.params.paper);
console.log('geometry', (performance.now() - t).toFixed(0), 'ms tokens', g.sampled);
// same-layer vs cross-layer mean distance
for (const d of [a, g]) {
  let same = 0,
    ns = 0,
    cross = 0,
    nc = 0;
  for (let i = 0; i < 72; i++)
    for (let j = i + 1; j < 72; j++) {
      const v = d.values[i * 72 + j];
      if (Math.floor(i / 12) === Math.floor(j / 12)) {
        same += v;
        ns++;
      } else {
        cross += v;
        nc++;
      }
    }
  console.log(d.kind, 'mean same-layer', (same / ns).toFixed(3), 'cross-layer', (cross / nc).toFixed(3));
  const nn = Array.from({ length: 72 }, (_, c) => nearestHeads(d, c, 1)[0].cell);
  console.log(
    d.kind,
    'nearest head in same layer:',
    nn.filter((n, c) => Math.floor(n / 12) === Math.floor(c / 12)).length,
    '/ 72',
    'adjacent layer',
    nn.filter((n, c) => Math.abs(Math.floor(n / 12) - Math.floor(c / 12)) === 1).length,
  );
}
