// The seed scatter (dot product vs cosine distance of each token's own query and key, after
// normalization) and its least-squares line, against numpy computing both from the raw
// query/key vectors and the normalization constants.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { analyzeHeads, type Analysis } from '../../../lib/analysis/analyze';
import { leastSquares, seedScatter } from '../../../lib/analysis/scatter';
import type { QueryKeyData } from '../../../lib/data/layout';
import { headVectors } from '../../../lib/data/layout';
import { encodeNpy } from '../../../lib/io/npy';
import { defaultSentences, extractDefault } from '../../helpers/extraction';

const NUMPY = `
import sys, numpy as np
d = sys.argv[1]
q, k, t = np.load(d + '/q.npy').astype(np.float64), np.load(d + '/k.npy').astype(np.float64), np.load(d + '/t.npy').astype(np.float64)
c = float(open(d + '/c.txt').read())
qn, kn = q * c, (k + t) / c
dot = (qn * kn).sum(1)
cos = 1 - dot / (np.linalg.norm(qn, axis=1) * np.linalg.norm(kn, axis=1))
slope, intercept = np.polyfit(dot, cos, 1)
print(slope, intercept, np.corrcoef(dot, cos)[0, 1])
`;

let data: QueryKeyData;
let analysis: Analysis;

beforeAll(async () => {
  data = await extractDefault(defaultSentences().slice(0, 60));
  analysis = await analyzeHeads(data);
});

describe('seed scatter', () => {
  it('has the slope, intercept and correlation numpy finds, for every mode on three heads', () => {
    const dir = mkdtempSync(join(tmpdir(), 'qkviz-scatter-'));
    for (const [layer, head] of [
      [0, 3],
      [2, 7],
      [5, 11],
    ]) {
      for (const mode of ['raw', 'paper', 'optimized'] as const) {
        const norm = analysis.params[mode][layer * data.heads + head];
        const { q, k } = headVectors(data, layer, head);
        writeFileSync(join(dir, 'q.npy'), encodeNpy(q, [data.tokenCount, data.headDim]));
        writeFileSync(join(dir, 'k.npy'), encodeNpy(k, [data.tokenCount, data.headDim]));
        writeFileSync(join(dir, 't.npy'), encodeNpy(Float32Array.from(norm.translation), [data.headDim]));
        writeFileSync(join(dir, 'c.txt'), String(norm.scale));
        const py = spawnSync('python3', ['-c', NUMPY, dir], { encoding: 'utf8' });
        expect(py.status, py.stderr).toBe(0);
        const [slope, intercept, correlation] = py.stdout.trim().split(/\s+/).map(Number);
        const scatter = seedScatter(q, k, data.headDim, norm);
        const fit = leastSquares(scatter.dot, scatter.cosineDistance);
        expect(fit.slope).toBeCloseTo(slope, 6);
        expect(fit.intercept).toBeCloseTo(intercept, 6);
        expect(fit.correlation).toBeCloseTo(correlation, 6);
        // The per-head table's seed metric is this correlation.
        expect(analysis.heads[layer * data.heads + head].metrics[mode].seedCorrelation).toBeCloseTo(correlation, 6);
      }
    }
  });
});
