// Normalization must never change what the model attends to: every mode leaves every
// attention row identical, on real model output and on random data. The paper mode's
// invariants hold, and the metrics agree with a direct recomputation.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { analyzeHeads } from '../../../lib/analysis/analyze';
import { headMetrics } from '../../../lib/analysis/metrics';
import { type HeadNormalization, NORMALIZATION_MODES, applyNormalization, normalizeAll, paperNormalization } from '../../../lib/analysis/normalize';
import { HeadPairs } from '../../../lib/analysis/pairs';
import { parseCorpus } from '../../../lib/corpus/parse';
import { checkAttention } from '../../../lib/analysis/attentionCheck';
import { extractQueryKeys } from '../../../lib/engine/extract';
import { type QueryKeyData, headVectors } from '../../../lib/data/layout';
import { tokenizeCorpus } from '../../../lib/corpus/tokenize';
import { openNodeModel } from '../../../lib/node/model';
import { softmaxBlock } from '../../helpers/attention';
import { randomData } from '../../helpers/randomHeads';
import { DEFAULT_MODEL_DIR, ROOT } from '../../helpers/models';

/** Max relative change of attention when lib applies each head's normalization (in float64, so only its math counts). */
function attentionChange(data: QueryKeyData, params: HeadNormalization[]): number {
  let worst = 0;
  for (let l = 0; l < data.layers; l++) {
    for (let h = 0; h < data.heads; h++) {
      const { q, k } = headVectors(data, l, h);
      const qn = new Float64Array(q.length);
      const kn = new Float64Array(k.length);
      applyNormalization(q, k, data.headDim, params[l * data.heads + h], qn, kn);
      data.sentences.forEach((s, si) => {
        const n = s.ids.length;
        const before = softmaxBlock(q, k, data.headDim, data.sentenceStarts[si], n);
        const after = softmaxBlock(qn, kn, data.headDim, data.sentenceStarts[si], n);
        for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) worst = Math.max(worst, Math.abs(after[i][j] - before[i][j]) / Math.max(before[i][j], 1e-30));
      });
    }
  }
  return worst;
}

describe('normalization on random data', () => {
  it.each([1, 2, 3])('leaves every attention row identical in every mode (seed %i)', async (seed) => {
    const data = randomData(seed);
    const analysis = await analyzeHeads(data);
    for (const mode of NORMALIZATION_MODES) expect(attentionChange(data, analysis.params[mode])).toBeLessThanOrEqual(1e-6);
    // The modes really move the vectors (a test that a no-op would pass is no test).
    expect(analysis.params.paper[0].scale).not.toBe(1);
    expect(Math.hypot(...analysis.params.paper[0].translation)).toBeGreaterThan(0.5);
  });

  it('paper mode makes the centroids coincide and the mean norms equal', () => {
    const data = randomData(9);
    const { q, k } = headVectors(data, 1, 2);
    const norm = paperNormalization(q, k, data.headDim);
    const out = normalizeAll(
      data,
      Array.from({ length: 6 }, () => norm),
    );
    const { q: qn, k: kn } = headVectors({ ...data, queries: out.queries, keys: out.keys }, 1, 2);
    const D = data.headDim;
    const n = data.tokenCount;
    let normQ = 0;
    let normK = 0;
    for (let d = 0; d < D; d++) {
      let mq = 0;
      let mk = 0;
      for (let t = 0; t < n; t++) {
        mq += qn[t * D + d] / n;
        mk += kn[t * D + d] / n;
      }
      // Centroids coincide up to the scale: c·mean(q) vs (mean(k) + t)/c with t = mean q − mean k.
      expect(mq / norm.scale).toBeCloseTo(mk * norm.scale, 4);
    }
    for (let t = 0; t < n; t++) {
      normQ += Math.hypot(...qn.subarray(t * D, (t + 1) * D)) / n;
      normK += Math.hypot(...kn.subarray(t * D, (t + 1) * D)) / n;
    }
    expect(normQ).toBeCloseTo(normK, 4);
  });

  it('computes the per-query distance correlation as a direct recomputation does', () => {
    const data = randomData(4);
    const { q, k } = headVectors(data, 0, 1);
    const pairs = new HeadPairs(q, k, data.headDim, data.sentenceStarts, { spec: data.attention[0] });
    const norm = paperNormalization(q, k, data.headDim);
    const got = headMetrics(pairs.figures(norm), norm).distanceCorrelation;
    const D = data.headDim;
    const vec = (arr: Float32Array, r: number, f: (v: number, d: number) => number) => Array.from(arr.subarray(r * D, (r + 1) * D), f);
    const corr = (x: number[], y: number[]) => {
      const mx = x.reduce((a, b) => a + b) / x.length;
      const my = y.reduce((a, b) => a + b) / y.length;
      const cov = x.reduce((s, v, i) => s + (v - mx) * (y[i] - my), 0);
      return cov / Math.sqrt(x.reduce((s, v) => s + (v - mx) ** 2, 0) * y.reduce((s, v) => s + (v - my) ** 2, 0));
    };
    let sum = 0;
    let count = 0;
    data.sentences.forEach((s, si) => {
      const row0 = data.sentenceStarts[si];
      const n = s.ids.length;
      for (let i = 0; i < n; i++) {
        const qi = vec(q, row0 + i, (v) => v * norm.scale);
        const dots: number[] = [];
        const dists: number[] = [];
        for (let j = 0; j < n; j++) {
          const kj = vec(k, row0 + j, (v, d) => (v + norm.translation[d]) / norm.scale);
          dots.push(qi.reduce((acc, v, d) => acc + v * kj[d], 0));
          dists.push(Math.hypot(...qi.map((v, d) => v - kj[d])));
        }
        sum += corr(dots, dists);
        count++;
      }
    });
    expect(got).toBeCloseTo(sum / count, 9);
  });
});

describe('normalization on the real model', () => {
  let data: QueryKeyData;
  let close: () => Promise<void>;
  beforeAll(async () => {
    const model = await openNodeModel(DEFAULT_MODEL_DIR);
    close = () => model.runner.release();
    const sentences = parseCorpus(readFileSync(join(ROOT, 'public', 'corpus', 'default.txt'), 'utf8')).sentences.slice(0, 60);
    data = await extractQueryKeys(model.runner, 'm', model.manifest, tokenizeCorpus(model.tokenizer, sentences, 512));
  });
  afterAll(async () => close?.());

  it('leaves every attention row identical in every mode, and the stored float32 vectors still reproduce the model', async () => {
    const analysis = await analyzeHeads(data);
    for (const mode of NORMALIZATION_MODES) {
      expect(attentionChange(data, analysis.params[mode])).toBeLessThanOrEqual(1e-6);
      // The normalized vectors (keys per query head now: a normalization is per query head) against the model's own attention.
      const normalized = normalizeAll(data, analysis.params[mode]);
      expect(checkAttention({ ...data, queries: normalized.queries, keys: normalized.keys, kvHeads: data.heads }).maxAbsError).toBeLessThanOrEqual(1e-5);
    }
  });
});
