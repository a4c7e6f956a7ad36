// The fast analysis against direct computations: every figure recomputed from normalized
// vectors in the test's own float64 code, on real heads of all-MiniLM-L6-v2; dot products
// derived from the attention equal the exact ones (and are not used where the attention is
// not softmax(q·k/√d)); the closed-form squared-distance ratio equals the brute-force one;
// the optimized normalization is the minimum of a brute-force grid; head-parallel analysis
// (helpers, a crashing helper) gives the sequential result; PCA layouts made with the
// analysis are the projection worker's; the WebAssembly passes give the JavaScript ones' results.
import { beforeAll, describe, expect, it } from 'vitest';
import { type Analysis, type AnalysisHelper, analyzeHeads, analyzeSlice } from '../../../lib/analysis/analyze';
import { type HeadNormalization, applyNormalization } from '../../../lib/analysis/normalize';
import { HeadPairs, type PairFigures, squaredRatio } from '../../../lib/analysis/pairs';
import { disableWasm } from '../../../lib/wasm/arena';
import { leastSquares, seedScatter } from '../../../lib/analysis/scatter';
import { type QueryKeyData, headAttention, headVectors } from '../../../lib/engine/layout';
import { DEFAULT_PROJECTION, jointVectors, projectHead } from '../../../lib/projection/project';
import { seededRandom } from '../../../lib/util/random';
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

/** Every figure of one head and normalization, straight from the definitions. */
function directFigures(d: QueryKeyData, layer: number, head: number, norm: HeadNormalization) {
  const { qRow, kRow, raw } = normalized(d, layer, head, norm);
  const attention = headAttention(d, layer, head);
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
      const a = Array.from({ length: len }, (_, j) => attention[d.attentionStarts[si] + i * len + j]);
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
      const scatter = seedScatter(data, layer, head, analysis.params[mode][cell]);
      expect(got.seedCorrelation).toBeCloseTo(leastSquares(scatter.dot, scatter.cosineDistance).correlation, 6);
    }
    // Attention-only figures, from the model's attention.
    const attention = headAttention(data, layer, head);
    let entropy = 0;
    let special = 0;
    data.sentences.forEach((s, si) => {
      const len = s.ids.length;
      for (let i = 0; i < len; i++) {
        const row = data.attentionStarts[si] + i * len;
        for (let j = 0; j < len; j++) if (attention[row + j] > 0) entropy -= attention[row + j] * Math.log(attention[row + j]);
        special += attention[row] + attention[row + len - 1];
      }
    });
    expect(report.attention.entropy).toBeCloseTo(entropy / data.tokenCount, 9);
    expect(report.attention.specialShare).toBeCloseTo(special / data.tokenCount, 9);
  });

  it('derives q·k from the attention within float precision of the exact dot products', () => {
    for (const [layer, head] of HEADS) {
      const { q, k } = headVectors(data, layer, head);
      const args = [q, k, data.headDim, data.sentenceStarts, data.attentionStarts, headAttention(data, layer, head)] as const;
      const derived = new HeadPairs(...args, { logitScale: 1 / Math.sqrt(data.headDim) });
      const exact = new HeadPairs(...args);
      expect(derived.derived).toBe(true);
      expect(exact.derived).toBe(false);
      let worst = 0;
      for (let i = 0; i < exact.qk.length; i++) worst = Math.max(worst, Math.abs(derived.qk[i] - exact.qk[i]) / (1 + Math.abs(exact.qk[i])));
      expect(worst).toBeLessThan(1e-4);
      expect(worst).toBeGreaterThan(0); // really derived, not computed
    }
  });

  it('checks the model’s attention against softmax(q·k/√d) and finds it within 1e-5', () => {
    expect(analysis.attentionCheck.maxAbsError).toBeGreaterThan(0);
    expect(analysis.attentionCheck.maxAbsError).toBeLessThan(1e-5);
  });
});

describe('dot products where the attention is not softmax(q·k/√d)', () => {
  it('computes them exactly, so the figures stay right, and the check says the attention differs', async () => {
    const data = randomData(5, 0.5);
    const { q, k } = headVectors(data, 1, 2);
    const pairs = new HeadPairs(q, k, data.headDim, data.sentenceStarts, data.attentionStarts, headAttention(data, 1, 2), {
      logitScale: 1 / Math.sqrt(data.headDim),
    });
    expect(pairs.derived).toBe(false);
    const exact = new HeadPairs(q, k, data.headDim, data.sentenceStarts, data.attentionStarts, headAttention(data, 1, 2));
    expect(Array.from(pairs.qk)).toEqual(Array.from(exact.qk));
    const a = await analyzeHeads(data);
    expect(a.attentionCheck.maxAbsError).toBeGreaterThan(0.01);
  });
});

describe('the optimized normalization', () => {
  /** Mean squared distance of attended pairs over that of every pair of the corpus, by brute force. */
  function bruteSquaredRatio(d: QueryKeyData, layer: number, head: number, norm: HeadNormalization): number {
    const { qRow, kRow } = normalized(d, layer, head, norm);
    const attention = headAttention(d, layer, head);
    const sq = (a: Float64Array, b: Float64Array) => a.reduce((s, v, i) => s + (v - b[i]) ** 2, 0);
    let attended = 0;
    let mass = 0;
    d.sentences.forEach((s, si) => {
      const len = s.ids.length;
      const row0 = d.sentenceStarts[si];
      for (let i = 0; i < len; i++) {
        for (let j = 0; j < len; j++) {
          const w = attention[d.attentionStarts[si] + i * len + j];
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
    const pairs = new HeadPairs(q, k, d.headDim, d.sentenceStarts, d.attentionStarts, headAttention(d, 0, 2));
    const terms = pairs.squaredTerms();
    for (const [alpha, c] of [
      [0, 1],
      [1, 0.7],
      [0.35, 1.9],
      [0.8, 0.3],
    ]) {
      const want = bruteSquaredRatio(d, 0, 2, { translation: pairs.t0.map((v) => v * alpha), scale: c });
      expect(squaredRatio(terms, alpha, c)).toBeCloseTo(want, 9);
    }
  });

  it('is the minimum of a brute-force grid over (α, c), and never worse than raw or paper on it', async () => {
    const d = randomData(8);
    const a = await analyzeHeads(d);
    for (const cell of [0, 4]) {
      const [layer, head] = [Math.floor(cell / d.heads), cell % d.heads];
      const chosen = a.params.optimized[cell];
      const best = bruteSquaredRatio(d, layer, head, chosen);
      expect(best).toBeLessThanOrEqual(bruteSquaredRatio(d, layer, head, a.params.raw[cell]) + 1e-12);
      expect(best).toBeLessThanOrEqual(bruteSquaredRatio(d, layer, head, a.params.paper[cell]) + 1e-12);
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

  it('makes the PCA layouts the projection worker makes', async () => {
    const withLayouts = await analyzeHeads(data, {
      helpers: [inProcess],
      pca: [
        { mode: 'optimized', dims: 3 },
        { mode: 'raw', dims: 2 },
      ],
    });
    expect(withLayouts.layouts?.map((l) => l.view)).toEqual([
      { mode: 'optimized', dims: 3 },
      { mode: 'raw', dims: 2 },
    ]);
    for (const [layer, head] of HEADS) {
      const cell = layer * data.heads + head;
      for (const l of withLayouts.layouts!) {
        const want = projectHead(jointVectors(data, layer, head, analysis.params[l.view.mode][cell]), data.headDim, {
          ...DEFAULT_PROJECTION,
          method: 'pca',
          dims: l.view.dims,
        }).coords;
        expect(Array.from(l.heads[cell])).toEqual(Array.from(want));
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
        const pairs = new HeadPairs(q, k, d.headDim, d.sentenceStarts, d.attentionStarts, headAttention(d, layer, head), {
          logitScale: 1 / Math.sqrt(d.headDim),
        });
        return {
          pairs,
          figures: [pairs.figuresAlong(0, 1), pairs.figuresAlong(1, pairs.paperScale()), pairs.figuresAlong(0.6, 1.3)],
          check: pairs.attentionCheck(1 / Math.sqrt(d.headDim)),
        };
      } finally {
        disableWasm(false);
      }
    };
    return { wasm: make(false), js: make(true) };
  };

  it.each([...HEADS.map(([l, h]) => [l, h, false] as const), [1, 2, true] as const])(
    'give the JavaScript passes’ figures and check (L%i H%i, random heads: %s)',
    (layer, head, random) => {
      const d = random ? randomData(5, 0.5) : data;
      const { wasm, js } = both(d, layer, head);
      expect(wasm.pairs.derived).toBe(js.pairs.derived);
      expect(wasm.pairs.derived).toBe(!random);
      const close = (a: number, b: number) => expect(Math.abs(a - b)).toBeLessThanOrEqual(1e-9 * (1 + Math.abs(b)));
      close(wasm.pairs.entropy, js.pairs.entropy);
      close(wasm.pairs.specialShare, js.pairs.specialShare);
      close(wasm.pairs.attendedDot, js.pairs.attendedDot);
      for (let p = 0; p < js.pairs.qk.length; p++) close(wasm.pairs.qk[p], js.pairs.qk[p]);
      wasm.figures.forEach((f, m) => {
        for (const key of Object.keys(f) as (keyof PairFigures)[]) close(f[key], js.figures[m][key]);
      });
      close(wasm.check.maxAbsError, js.check.maxAbsError);
      close(wasm.check.maxRelError, js.check.maxRelError);
    },
  );
});
