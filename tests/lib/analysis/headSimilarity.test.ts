// Head similarities against a direct computation written here (per-row Jensen–Shannon in
// float64; CKA through the feature-space formula ‖XᵀY‖²_F / (‖XᵀX‖_F‖YᵀY‖_F), not the Gram
// matrices lib uses), and their invariants: a head and its copy are 0 apart, a rotated and
// scaled copy of a head's vectors is 0 apart in geometry, distances are symmetric, in [0, 1],
// and — both being metrics — satisfy the triangle inequality on random heads.
import { describe, expect, it } from 'vitest';
import { attentionDistances, geometryDistances, nearestHeads } from '../../../lib/analysis/headSimilarity';
import { memoryVectors } from '../../../lib/store/vectors';
import { type QueryKeyData, corpusLayout, headVectors, sampleOf } from '../../../lib/data/layout';
import { seededRandom } from '../../../lib/util/random';
import { randomData } from '../../helpers/randomHeads';

const cellsOf = (data: QueryKeyData) => data.layers * data.heads;

/** √(mean over rows of JSD₂), directly, from the test's own softmax of every sentence (randomData's attention). */
function directAttention(data: QueryKeyData, a: number, b: number): number {
  const A = sampleOf(data.attentionSample, a);
  const B = sampleOf(data.attentionSample, b);
  const blocks = corpusLayout(data.sentences.map((s) => s.ids.length)).pairStarts;
  let total = 0;
  let rows = 0;
  data.sentences.forEach((s, si) => {
    const n = s.ids.length;
    for (let i = 0; i < n; i++) {
      let jsd = 0;
      for (let j = 0; j < n; j++) {
        const p = A[blocks[si] + i * n + j];
        const q = B[blocks[si] + i * n + j];
        const m = (p + q) / 2;
        if (p > 0) jsd += 0.5 * p * Math.log2(p / m);
        if (q > 0) jsd += 0.5 * q * Math.log2(q / m);
      }
      total += jsd;
      rows++;
    }
  });
  return Math.sqrt(total / rows);
}

/** arccos(linear CKA)/(π/2) of two heads' joint [Q; K] over every token (raw vectors). */
function directGeometry(data: QueryKeyData, a: number, b: number): number {
  const D = data.headDim;
  const joint = (c: number) => {
    const { q, k } = headVectors(data, Math.floor(c / data.heads), c % data.heads);
    const rows = [
      ...Array.from({ length: data.tokenCount }, (_, t) => Array.from(q.subarray(t * D, t * D + D))),
      ...Array.from({ length: data.tokenCount }, (_, t) => Array.from(k.subarray(t * D, t * D + D))),
    ];
    const mean = Array.from({ length: D }, (_, d) => rows.reduce((s, r) => s + r[d], 0) / rows.length);
    return rows.map((r) => r.map((v, d) => v - mean[d]));
  };
  const cross = (X: number[][], Y: number[][]) => {
    let f = 0;
    for (let d = 0; d < D; d++) for (let e = 0; e < D; e++) f += X.reduce((s, r, i) => s + r[d] * Y[i][e], 0) ** 2;
    return f;
  };
  const X = joint(a);
  const Y = joint(b);
  const cka = cross(X, Y) / Math.sqrt(cross(X, X) * cross(Y, Y));
  return Math.acos(Math.min(1, cka)) / (Math.PI / 2);
}

/** `data` with head `to` replaced by head `from`'s vectors (rotated by `rotation` and scaled); attention follows from them. */
function copyHead(data: QueryKeyData, from: number, to: number, rotation?: number[][], scale = 1): QueryKeyData {
  const out = { ...data, queries: data.queries.slice(), keys: data.keys.slice() };
  const D = data.headDim;
  const src = headVectors(data, Math.floor(from / data.heads), from % data.heads);
  const dst = headVectors(out, Math.floor(to / data.heads), to % data.heads);
  for (const [s, t] of [
    [src.q, dst.q],
    [src.k, dst.k],
  ]) {
    for (let i = 0; i < data.tokenCount; i++) {
      for (let d = 0; d < D; d++) {
        t[i * D + d] = rotation ? scale * rotation[d].reduce((acc, r, e) => acc + r * s[i * D + e], 0) : s[i * D + d];
      }
    }
  }
  return out;
}

/** A random orthogonal matrix (Gram–Schmidt of a random one). */
function randomRotation(d: number, seed: number): number[][] {
  const rand = seededRandom(seed);
  const rows: number[][] = [];
  while (rows.length < d) {
    let v = Array.from({ length: d }, () => rand() * 2 - 1);
    for (const r of rows) {
      const dot = r.reduce((s, x, i) => s + x * v[i], 0);
      v = v.map((x, i) => x - dot * r[i]);
    }
    const norm = Math.hypot(...v);
    rows.push(v.map((x) => x / norm));
  }
  return rows;
}

describe('head similarities', () => {
  it('equal a direct computation on every pair (attention over every row, geometry over every token)', async () => {
    const data = randomData(3);
    const cells = cellsOf(data);
    const attention = await attentionDistances(data, memoryVectors(data));
    const geometry = await geometryDistances(data, memoryVectors(data), undefined, 1e12);
    expect(attention.sampled).toBe(data.tokenCount);
    expect(geometry.sampled).toBe(data.tokenCount);
    for (let a = 0; a < cells; a++) {
      expect(attention.values[a * cells + a]).toBe(0);
      expect(geometry.values[a * cells + a]).toBe(0);
      for (let b = 0; b < cells; b++) {
        if (a === b) continue;
        expect(attention.values[a * cells + b]).toBeCloseTo(directAttention(data, a, b), 5);
        expect(geometry.values[a * cells + b]).toBeCloseTo(directGeometry(data, a, b), 4);
        expect(attention.values[a * cells + b]).toBe(attention.values[b * cells + a]);
        expect(geometry.values[a * cells + b]).toBe(geometry.values[b * cells + a]);
      }
    }
  });

  it('put a head and its copy 0 apart; a rotated, scaled copy 0 apart in geometry', async () => {
    const copy = copyHead(randomData(5), 1, 4);
    expect((await attentionDistances(copy, memoryVectors(copy))).values[1 * cellsOf(copy) + 4]).toBe(0);
    expect((await geometryDistances(copy, memoryVectors(copy), undefined, 1e12)).values[1 * cellsOf(copy) + 4]).toBeLessThan(1e-6);
    const data = copyHead(randomData(5), 1, 4, randomRotation(8, 9), 2.5);
    const cells = cellsOf(data);
    const geometry = await geometryDistances(data, memoryVectors(data), undefined, 1e12);
    const attention = await attentionDistances(data, memoryVectors(data));
    expect(geometry.values[1 * cells + 4]).toBeLessThan(1e-3);
    // Any other pair of random heads is well apart.
    expect(geometry.values[0 * cells + 2]).toBeGreaterThan(0.05);
    expect(attention.values[0 * cells + 2]).toBeGreaterThan(0.05);
    expect(nearestHeads(geometry, 4, 2)[0]).toEqual({ cell: 1, distance: geometry.values[4 * cells + 1] });
  });

  it('satisfy the triangle inequality and stay in [0, 1]', async () => {
    for (const seed of [11, 12]) {
      const data = randomData(seed);
      const cells = cellsOf(data);
      for (const d of [await attentionDistances(data, memoryVectors(data)), await geometryDistances(data, memoryVectors(data), undefined, 1e12)]) {
        for (let a = 0; a < cells; a++) {
          for (let b = 0; b < cells; b++) {
            const ab = d.values[a * cells + b];
            expect(ab).toBeGreaterThanOrEqual(0);
            expect(ab).toBeLessThanOrEqual(1);
            for (let c = 0; c < cells; c++) expect(ab).toBeLessThanOrEqual(d.values[a * cells + c] + d.values[c * cells + b] + 1e-6);
          }
        }
      }
    }
  });

  it('read a sample of rows and tokens within a budget, and say how many', async () => {
    const data = randomData(7);
    const attention = await attentionDistances(data, memoryVectors(data), 2000);
    const geometry = await geometryDistances(data, memoryVectors(data), undefined, 2000);
    expect(attention.sampled).toBeLessThan(data.tokenCount);
    expect(attention.total).toBe(data.tokenCount);
    expect(geometry.sampled).toBeLessThan(data.tokenCount);
    // Sampled distances still tell a copy from the rest.
    const copied = copyHead(data, 0, 5);
    expect((await attentionDistances(copied, memoryVectors(copied), 2000)).values[5]).toBe(0);
  });
});
