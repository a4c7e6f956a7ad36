// The fast analysis against direct computations: every figure recomputed from normalized
// vectors and attention in the test's own float64 code, on real heads of all-MiniLM-L6-v2;
// the attention the analysis recomputes from Q/K equals the test's softmax (with causal
// masks, sliding windows, soft-capping, grouped keys and rotated vectors) and the model's
// own on the sampled sentences; the check notices a model whose attention is not softmax of
// its Q/K; the closed-form squared-distance ratio equals the brute-force one; the optimized
// normalization is the minimum of a brute-force grid; head-parallel analysis (helpers, a
// crashing helper) gives the sequential result; the first views' PCA layouts are the
// projection worker's; the WebAssembly passes give the JavaScript ones' results.
import { beforeAll, describe, expect, it } from 'vitest';
import { type Analysis, type AnalysisHelper, analyzeHeads, analyzeSlice } from '../../../lib/analysis/analyze';
import { type HeadNormalization, applyNormalization } from '../../../lib/analysis/normalize';
import { squaredRatio } from '../../../lib/analysis/objective';
import { HeadPairs, type PairFigures } from '../../../lib/analysis/pairs';
import { leastSquares, seedScatter } from '../../../lib/analysis/scatter';
import type { AttentionSpec } from '../../../lib/data/attention';
import { type QueryKeyData, attentionVectors, headVectors, sampleOf } from '../../../lib/data/layout';
import { DEFAULT_PROJECTION, jointVectors, projectHead, projectHeadVectors } from '../../../lib/projection/project';
import { pcaLayouts } from '../../../lib/projection/pcaViews';
import { seededRandom } from '../../../lib/util/random';
import { disableWasm } from '../../../lib/wasm/arena';
import { softmaxBlock } from '../../helpers/attention';
import { defaultSentences, extractDefault } from '../../helpers/extraction';
import { randomData } from '../../helpers/randomHeads';

let data: QueryKeyData;
let analysis: Analysis;
beforeAll(async () => {
  data = await extractDefault(defaultSentences().slice(0, 60));
  analysis = await analyzeHeads(data);
});

const HEADS: [number, number][] = [
  [0, 0],
  [1, 5],
  [3, 9],
  [5, 11],
];

/** A head's normalized vectors as float64 rows. */
function normalized(d: QueryKeyData, layer: number, head: number, norm: HeadNormalization) {
  const { q, k } = headVectors(d, layer, head);
  const qn = new Float64Array(q.length);
  const kn = new Float64Array(k.length);
  applyNormalization(q, k, d.headDim, norm, qn, kn);
  const D = d.headDim;
  const row = (a: Float64Array, r: number) => a.subarray(r * D, (r + 1) * D);
  return { qRow: (r: number) => row(qn, r), kRow: (r: number) => row(kn, r), raw: { q, k } };
}

const dotOf = (a: ArrayLike<number>, b: ArrayLike<number>, n = a.length) => {
  let s = 0;
  for (let i = 0; i < n; i++) s += a[i] * b[i];
  return s;
};
const distance = (a: Float64Array, b: Float64Array) => Math.sqrt(a.reduce((s, v, i) => s + (v - b[i]) ** 2, 0));

/** Two-pass (weighted) Pearson correlation. */
function pearson(x: number[], y: number[], w: number[] = x.map(() => 1)): number {
  const sw = w.reduce((a, b) => a + b, 0);
  const mx = x.reduce((s, v, i) => s + w[i] * v, 0) / sw;
  const my = y.reduce((s, v, i) => s + w[i] * v, 0) / sw;
  let cov = 0;
  let vx = 0;
  let vy = 0;
  x.forEach((v, i) => {
    cov += w[i] * (v - mx) * (y[i] - my);
    vx += w[i] * (v - mx) ** 2;
    vy += w[i] * (y[i] - my) ** 2;
  });
  return cov / Math.sqrt(vx * vy);
}

/** A head's attention per sentence, by the test's own softmax of its Q/K. */
function testAttention(d: QueryKeyData, layer: number, head: number): Float64Array[][] {
  const { q, k } = attentionVectors(d, layer, head);
  return d.sentences.map((s, si) => softmaxBlock(q, k, d.headDim, d.sentenceStarts[si], s.ids.length, { causal: d.causal }));
}

/** Every figure of one head and normalization, straight from the definitions. */
function directFigures(d: QueryKeyData, layer: number, head: number, norm: HeadNormalization) {
  const { qRow, kRow, raw } = normalized(d, layer, head, norm);
  const attention = testAttention(d, layer, head);
  const D = d.headDim;
  const n = d.tokenCount;
  // The chance level: one key per query drawn with the analysis's seed (1234), in row order.
  const rand = seededRandom(1234);
  const randomKey = Array.from({ length: n }, () => Math.floor(rand() * n));
  let plain = 0;
  let weighted = 0;
  let correlated = 0;
  let argmax = 0;
  let attended = 0;
  let chance = 0;
  d.sentences.forEach((s, si) => {
    const len = s.ids.length;
    const row0 = d.sentenceStarts[si];
    for (let i = 0; i < len; i++) {
      const a = Array.from(attention[si][i]);
      const dots = a.map((_, j) => dotOf(raw.q.subarray((row0 + i) * D, (row0 + i + 1) * D), raw.k.subarray((row0 + j) * D, (row0 + j + 1) * D)));
      const dists = a.map((_, j) => distance(qRow(row0 + i), kRow(row0 + j)));
      if (len >= 3) {
        plain += pearson(dots, dists);
        weighted += pearson(dots, dists, a);
        correlated++;
      }
      argmax += dists[a.indexOf(Math.max(...a))];
      attended += a.reduce((sum, w, j) => sum + w * dists[j], 0);
      chance += distance(qRow(row0 + i), kRow(randomKey[row0 + i]));
    }
  });
  const selfDots = Array.from({ length: n }, (_, r) => dotOf(qRow(r), kRow(r)));
  const cosines = selfDots.map((v, r) => 1 - v / Math.sqrt(dotOf(qRow(r), qRow(r)) * dotOf(kRow(r), kRow(r))));
  return {
    distance: plain / correlated,
    weighted: weighted / correlated,
    argmaxRatio: argmax / chance,
    weightedRatio: attended / chance,
    seed: pearson(selfDots, cosines),
  };
}

describe('the fast analysis on real heads', () => {
  it.each(HEADS)('gives every figure a direct recomputation gives, in every mode (L%i H%i)', (layer, head) => {
    const cell = layer * data.heads + head;
    const report = analysis.heads[cell];
    for (const mode of ['raw', 'paper', 'optimized'] as const) {
      const want = directFigures(data, layer, head, analysis.params[mode][cell]);
      const got = report.metrics[mode];
      expect(got.distanceCorrelation, `${mode} distance correlation`).toBeCloseTo(want.distance, 6);
      expect(got.weightedCorrelation, `${mode} weighted correlation`).toBeCloseTo(want.weighted, 6);
      expect(got.argmaxDistanceRatio, `${mode} argmax ratio`).toBeCloseTo(want.argmaxRatio, 6);
      expect(got.weightedDistanceRatio, `${mode} weighted ratio`).toBeCloseTo(want.weightedRatio, 6);
      expect(got.seedCorrelation, `${mode} seed`).toBeCloseTo(want.seed, 6);
      // And the seed figure is the diagnostics scatter's.
      const own = headVectors(data, layer, head);
      const scatter = seedScatter(own.q, own.k, data.headDim, analysis.params[mode][cell]);
      expect(got.seedCorrelation).toBeCloseTo(leastSquares(scatter.dot, scatter.cosineDistance).correlation, 6);
    }
    // Attention-only figures, from the test's own softmax of the head's Q/K.
    let entropy = 0;
    let special = 0;
    testAttention(data, layer, head).forEach((rows) => {
      const len = rows.length;
      for (const row of rows) {
        for (const a of row) if (a > 0) entropy -= a * Math.log(a);
        special += row[0] + row[len - 1];
      }
    });
    expect(report.attention.entropy).toBeCloseTo(entropy / data.tokenCount, 7);
    expect(report.attention.specialShare).toBeCloseTo(special / data.tokenCount, 7);
  });

  it('recomputes the attention as the test’s softmax does, and finds it within 1e-5 of the model’s own on the sampled sentences', () => {
    for (const [layer, head] of HEADS) {
      const { q, k } = headVectors(data, layer, head);
      const pairs = new HeadPairs(q, k, data.headDim, data.sentenceStarts, { spec: data.attention[layer] });
      let worst = 0;
      testAttention(data, layer, head).forEach((rows, s) => {
        const n = rows.length;
        rows.forEach((row, i) => row.forEach((a, j) => (worst = Math.max(worst, Math.abs(pairs.att[pairs.pairStarts[s] + i * n + j] - a)))));
      });
      pairs.release();
      expect(worst).toBeLessThan(1e-7);
    }
    // The sample: sentences spread over the corpus, with the model's own attention.
    const sampled = Array.from(data.attentionSample.sentences);
    expect(sampled.length).toBeGreaterThan(10);
    expect(sampled[sampled.length - 1]).toBeGreaterThan(40);
    expect(analysis.attentionCheck.maxAbsError).toBeGreaterThan(0);
    expect(analysis.attentionCheck.maxAbsError).toBeLessThan(1e-5);
    // Every head checked, each against its own share of the sample.
    expect(analysis.heads.every((h) => h.check.maxAbsError < 1e-5)).toBe(true);
    const model = sampleOf(data.attentionSample, 3 * data.heads + 9);
    const { q, k } = headVectors(data, 3, 9);
    const first = data.attentionSample.sentences[0];
    const rows = softmaxBlock(q, k, data.headDim, data.sentenceStarts[first], data.sentences[first].ids.length);
    expect(Math.abs(model[1] - rows[0][1])).toBeLessThan(1e-5);
  });
});

describe('attention recomputed as the model computes it', () => {
  const specs: [string, AttentionSpec, boolean][] = [
    ['plain', { scale: 1 / Math.sqrt(8) }, false],
    ['causal', { scale: 1 / Math.sqrt(8) }, true],
    ['sliding window of 4, causal', { scale: 1 / Math.sqrt(8), window: 4 }, true],
    ['soft-capped logits (cap 1.5) and another scale', { scale: 0.3, softcap: 1.5 }, false],
  ];
  it.each(specs)('equals the test’s softmax: %s, in WebAssembly and JavaScript', (_, spec, causal) => {
    const d = randomData(3);
    const { q, k } = headVectors(d, 1, 2);
    for (const off of [false, true]) {
      disableWasm(off);
      try {
        const pairs = new HeadPairs(q, k, d.headDim, d.sentenceStarts, { spec, causal });
        let worst = 0;
        let sum = 0;
        d.sentences.forEach((s, si) => {
          const n = s.ids.length;
          const rows = softmaxBlock(q, k, d.headDim, d.sentenceStarts[si], n, { causal, scale: spec.scale, softcap: spec.softcap, window: spec.window });
          rows.forEach((row, i) =>
            row.forEach((a, j) => {
              worst = Math.max(worst, Math.abs(pairs.att[pairs.pairStarts[si] + i * n + j] - a));
              sum += pairs.att[pairs.pairStarts[si] + i * n + j];
            }),
          );
        });
        expect(worst, off ? 'JavaScript' : 'WebAssembly').toBeLessThan(1e-7);
        expect(sum).toBeCloseTo(d.tokenCount, 4);
        pairs.release();
      } finally {
        disableWasm(false);
      }
    }
  });

  it('takes attention from the rotated vectors when the run holds unrotated ones, and q·k from the unrotated', () => {
    const d = randomData(4);
    const own = headVectors(d, 0, 1);
    const other = headVectors(d, 1, 0);
    const pairs = new HeadPairs(own.q, own.k, d.headDim, d.sentenceStarts, { spec: d.attention[0], attentionVectors: other });
    const rows = softmaxBlock(other.q, other.k, d.headDim, 0, d.sentences[0].ids.length);
    expect(pairs.att[7]).toBeCloseTo(rows[1][2], 7);
    expect(pairs.qk[7]).toBeCloseTo(dotOf(own.q.subarray(8, 16), own.k.subarray(16, 24)), 9);
    pairs.release();
  });

  it('gives every query head of a group its group’s keys', () => {
    const d = randomData(6, { heads: 4, kvHeads: 2 });
    expect(headVectors(d, 1, 0).k).toEqual(headVectors(d, 1, 1).k);
    expect(headVectors(d, 1, 2).k).toEqual(headVectors(d, 1, 3).k);
    expect(headVectors(d, 1, 1).k).not.toEqual(headVectors(d, 1, 2).k);
    expect(headVectors(d, 1, 2).k.byteOffset).toBe((1 * 2 + 1) * d.tokenCount * d.headDim * 4);
  });
});

describe('the check against the model’s attention', () => {
  it('notices a model whose attention is not softmax(q·k/√d) of its Q/K, and the figures still use the recomputed attention', async () => {
    const honest = await analyzeHeads(randomData(5));
    const other = await analyzeHeads(randomData(5, 0.5));
    expect(honest.attentionCheck.maxAbsError).toBeLessThan(1e-6);
    expect(other.attentionCheck.maxAbsError).toBeGreaterThan(0.01);
    expect(other.heads).toEqual(honest.heads.map((h, c) => ({ ...h, check: other.heads[c].check })));
  });

  it('is NaN (not checked) when no sentence was sampled', async () => {
    const d = randomData(5);
    const none = { ...d, attentionSample: { sentences: new Int32Array(0), blocks: new Int32Array(1), values: new Float32Array(0) } };
    expect((await analyzeHeads(none)).attentionCheck.maxAbsError).toBeNaN();
  });
});

describe('the optimized normalization', () => {
  /** Mean squared distance of attended pairs over that of every pair of the corpus, by brute force. */
  function bruteSquaredRatio(d: QueryKeyData, layer: number, head: number, norm: HeadNormalization): number {
    const { qRow, kRow } = normalized(d, layer, head, norm);
    const attention = testAttention(d, layer, head);
    const sq = (a: Float64Array, b: Float64Array) => a.reduce((s, v, i) => s + (v - b[i]) ** 2, 0);
    let attended = 0;
    let mass = 0;
    d.sentences.forEach((s, si) => {
      const len = s.ids.length;
      const row0 = d.sentenceStarts[si];
      for (let i = 0; i < len; i++) {
        for (let j = 0; j < len; j++) {
          const w = attention[si][i][j];
          attended += w * sq(qRow(row0 + i), kRow(row0 + j));
          mass += w;
        }
      }
    });
    let chance = 0;
    for (let i = 0; i < d.tokenCount; i++) for (let j = 0; j < d.tokenCount; j++) chance += sq(qRow(i), kRow(j));
    return attended / mass / (chance / d.tokenCount ** 2);
  }

  it('has a closed-form objective equal to the brute-force squared-distance ratio', () => {
    const d = randomData(7);
    const { q, k } = headVectors(d, 0, 2);
    const pairs = new HeadPairs(q, k, d.headDim, d.sentenceStarts, { spec: d.attention[0] });
    const terms = pairs.squaredTerms();
    for (const [alpha, c] of [
      [0, 1],
      [1, 0.7],
      [0.35, 1.9],
      [0.8, 0.3],
    ]) {
      const want = bruteSquaredRatio(d, 0, 2, { translation: pairs.t0.map((v) => v * alpha), scale: c });
      expect(squaredRatio(terms, alpha, c)).toBeCloseTo(want, 6);
    }
    pairs.release();
  });

  it('is the minimum of a brute-force grid over (α, c), and never worse than raw or paper on it', async () => {
    const d = randomData(8);
    const a = await analyzeHeads(d);
    for (const cell of [0, 4]) {
      const [layer, head] = [Math.floor(cell / d.heads), cell % d.heads];
      const chosen = a.params.optimized[cell];
      const best = bruteSquaredRatio(d, layer, head, chosen);
      expect(best).toBeLessThanOrEqual(bruteSquaredRatio(d, layer, head, a.params.raw[cell]) + 1e-9);
      expect(best).toBeLessThanOrEqual(bruteSquaredRatio(d, layer, head, a.params.paper[cell]) + 1e-9);
      const t0 = a.params.paper[cell].translation;
      for (let ai = 0; ai <= 10; ai++) {
        for (let ci = -20; ci <= 20; ci++) {
          const norm = { translation: t0.map((v) => (v * ai) / 10), scale: chosen.scale * Math.exp((ci / 20) * Math.log(8)) };
          expect(bruteSquaredRatio(d, layer, head, norm)).toBeGreaterThanOrEqual(best - 1e-9);
        }
      }
    }
  });
});

describe('head-parallel analysis', () => {
  /** A helper in this process: the slice goes through a structured clone, as to a worker. */
  const inProcess: AnalysisHelper = (slice, onHead) => analyzeSlice(structuredClone(slice), { onHead });

  it('gives the sequential result with helpers, and with a helper that crashes', async () => {
    const crashing: AnalysisHelper = () => Promise.reject(new Error('worker crashed'));
    const heads: number[] = [];
    const parallel = await analyzeHeads(data, { helpers: [inProcess, inProcess], onHead: (done) => heads.push(done) });
    expect(parallel).toEqual(analysis);
    expect(heads).toEqual(Array.from({ length: 72 }, (_, i) => i + 1));
    expect(await analyzeHeads(data, { helpers: [crashing] })).toEqual(analysis);
  });

  it('gives the sequential result for a decoder with grouped keys and rotated vectors', async () => {
    const d = { ...randomData(11, { heads: 4, kvHeads: 2, causal: true }) };
    d.rotated = { queries: d.queries.map((v) => v * 0.9 + 0.1), keys: d.keys.map((v) => v * 1.1) };
    expect(await analyzeHeads(d, { helpers: [inProcess] })).toEqual(await analyzeHeads(d));
  });

  it('makes the first views’ PCA layouts: the projection worker’s, and PCA of the joint vectors', async () => {
    const views = [
      { mode: 'optimized', dims: 3 },
      { mode: 'raw', dims: 2 },
    ] as const;
    const layouts = await pcaLayouts(data, analysis.params, views);
    expect(layouts.map((l) => l.view)).toEqual(views);
    for (const [layer, head] of HEADS) {
      const cell = layer * data.heads + head;
      const { q, k } = headVectors(data, layer, head);
      for (const l of layouts) {
        const params = { ...DEFAULT_PROJECTION, method: 'pca' as const, dims: l.view.dims };
        // What the projection worker makes for the same view.
        expect(Array.from(l.heads[cell])).toEqual(Array.from(projectHeadVectors(q, k, data.headDim, analysis.params[l.view.mode][cell], params).coords));
        // And an independent PCA (an eigendecomposition of the joint vectors' own covariance, checked against ml-pca).
        const want = projectHead(jointVectors(data, layer, head, analysis.params[l.view.mode][cell]), data.headDim, params).coords;
        let worst = 0;
        for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(l.heads[cell][i] - want[i]));
        expect(worst).toBeLessThan(1e-4);
      }
    }
  });
});

describe('the WebAssembly passes (wasm/analysis.ts)', () => {
  const both = (d: QueryKeyData, layer: number, head: number) => {
    const make = (off: boolean) => {
      disableWasm(off);
      try {
        const { q, k } = headVectors(d, layer, head);
        const pairs = new HeadPairs(q, k, d.headDim, d.sentenceStarts, { spec: d.attention[layer], causal: d.causal });
        const out = {
          qk: pairs.qk.slice(),
          att: pairs.att.slice(),
          keyWeight: pairs.keyWeight.slice(),
          argmaxKey: pairs.argmaxKey.slice(),
          entropy: pairs.entropy,
          specialShare: pairs.specialShare,
          attendedDot: pairs.attendedDot,
          figures: [pairs.figuresAlong(0, 1), pairs.figuresAlong(1, pairs.paperScale()), pairs.figuresAlong(0.6, 1.3)],
        };
        pairs.release();
        return out;
      } finally {
        disableWasm(false);
      }
    };
    return { wasm: make(false), js: make(true) };
  };

  it.each([...HEADS.map(([l, h]) => [l, h, false] as const), [1, 2, true] as const])(
    'give the JavaScript passes’ pairs and figures (L%i H%i, random causal heads: %s)',
    (layer, head, random) => {
      const d = random ? randomData(5, { causal: true }) : data;
      const { wasm, js } = both(d, layer, head);
      const close = (a: number, b: number, tolerance = 1e-9) => expect(Math.abs(a - b)).toBeLessThanOrEqual(tolerance * (1 + Math.abs(b)));
      close(wasm.entropy, js.entropy);
      close(wasm.specialShare, js.specialShare, 1e-7);
      close(wasm.attendedDot, js.attendedDot, 1e-7);
      for (let p = 0; p < js.qk.length; p++) close(wasm.qk[p], js.qk[p]);
      // Attention is float32: e^x by a table in WebAssembly may round one ulp apart.
      for (let p = 0; p < js.att.length; p++) close(wasm.att[p], js.att[p], 1e-6);
      for (let r = 0; r < js.keyWeight.length; r++) close(wasm.keyWeight[r], js.keyWeight[r], 1e-6);
      expect(Array.from(wasm.argmaxKey)).toEqual(Array.from(js.argmaxKey));
      wasm.figures.forEach((f, m) => {
        for (const key of Object.keys(f) as (keyof PairFigures)[]) close(f[key], js.figures[m][key], 1e-7);
      });
    },
  );
});
