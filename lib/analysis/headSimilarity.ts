// How alike two heads are, from a run, as a distance between every pair of heads (both are
// metrics: zero for a head and itself, symmetric, and the triangle inequality holds):
//
// - attention: the Jensen–Shannon distance between the heads' attention rows, root mean square
//   over the corpus's query rows — √(mean over rows of JSD₂(pₕ(row), p_g(row))), in [0, 1]. Two
//   heads that attend alike from every token are 0 apart; heads with disjoint attention, 1.
//   (Each row's √JSD is a metric, and the root mean square of metrics is one.)
// - geometry: the angle between the heads' centred Gram matrices of their joint query/key
//   clouds, paired token by token — arccos(linear CKA) / (π/2), in [0, 1] — on a sample of
//   tokens after each head's paper normalization (§5.1.1). 0 when one head's cloud is a
//   rotation and scaling of the other's; it ignores the heads' own coordinate axes.
//
// Both compare every pair of heads, so a budget of operations picks how many query rows
// (attention) or tokens (geometry) the comparison reads; the result says how many.
import type { RunData } from '../data/layout';
import { attentionRow } from './attention';
import { type HeadNormalization, applyNormalization } from './normalize';

export type HeadSimilarityKind = 'attention' | 'geometry';

/** Where the heads' vectors come from, a head at a time (a run store's reader, or arrays in memory). */
export interface HeadReader {
  head(cell: number): Promise<{ q: Float32Array; k: Float32Array }>;
  attentionHead(cell: number): Promise<{ q: Float32Array; k: Float32Array }>;
}

export interface HeadDistances {
  kind: HeadSimilarityKind;
  /** Heads (layers × heads, row-major by layer). */
  cells: number;
  /** [cells × cells] symmetric, zero diagonal, in [0, 1]. */
  values: Float32Array;
  /** Query rows (attention) or tokens (geometry) the distances were computed over. */
  sampled: number;
  /** Of how many. */
  total: number;
}

/** Multiply-adds (or logarithms) the pairwise comparison may take, over all pairs. */
const ATTENTION_BUDGET = 6e7;
const GEOMETRY_BUDGET = 6e8;

export const SIMILARITY_DESCRIPTIONS: Record<HeadSimilarityKind, string> = {
  attention:
    'Attention: Jensen–Shannon distance between the two heads’ attention rows, root mean square over the corpus’s query rows (0 = they attend alike from every token, 1 = never to the same keys).',
  geometry:
    'Q/K geometry: the angle between the heads’ joint query/key clouds compared token by token (arccos of linear CKA, after the paper normalization), 0 = one cloud is a rotation and scaling of the other.',
};

const pairs = (cells: number) => (cells * (cells - 1)) / 2;

/** Every `stride`-th query row of the corpus: its sentence, its position there, and how many keys it has. */
function attentionRows(data: RunData, stride: number): { sentence: Int32Array; position: Int32Array; lengths: Int32Array; total: number } {
  const sentence: number[] = [];
  const position: number[] = [];
  const lengths: number[] = [];
  let row = 0;
  data.sentences.forEach((s, si) => {
    const n = s.ids.length;
    for (let i = 0; i < n; i++, row++) {
      if (row % stride !== 0) continue;
      sentence.push(si);
      position.push(i);
      lengths.push(data.causal ? i + 1 : n);
    }
  });
  return { sentence: Int32Array.from(sentence), position: Int32Array.from(position), lengths: Int32Array.from(lengths), total: row };
}

/** Reads each head's vectors once (`vectors`, lib/store/vectors.ts's RunVectors, structurally). */
export async function attentionDistances(data: RunData, vectors: HeadReader, budget = ATTENTION_BUDGET): Promise<HeadDistances> {
  const cells = data.layers * data.heads;
  const all = attentionRows(data, 1);
  const entries = all.lengths.reduce((a, n) => a + n, 0);
  const stride = Math.max(1, Math.ceil((entries * pairs(cells)) / budget));
  const rows = stride === 1 ? all : attentionRows(data, stride);
  const width = rows.lengths.reduce((a, n) => a + n, 0);
  // Each head's sampled rows (recomputed from its Q/K), laid end to end, and the sum of their entropies (bits).
  const gathered = new Float64Array(cells * width);
  const entropy = new Float64Array(cells);
  const longest = Math.max(1, ...data.sentences.map((s) => s.ids.length));
  const row = new Float64Array(longest);
  const logits = new Float64Array(longest);
  for (let c = 0; c < cells; c++) {
    const layer = Math.floor(c / data.heads);
    const { q, k } = await vectors.attentionHead(c);
    let at = c * width;
    let h = 0;
    for (let r = 0; r < rows.sentence.length; r++) {
      const s = rows.sentence[r];
      const row0 = data.sentenceStarts[s];
      attentionRow(q, k, data.headDim, row0, data.sentenceStarts[s + 1] - row0, rows.position[r], data.attention[layer], data.causal ?? false, row, logits);
      // Renormalised over the keys a query has (past a causal query the weights are 0 anyway).
      let sum = 0;
      for (let j = 0; j < rows.lengths[r]; j++) sum += row[j];
      for (let j = 0; j < rows.lengths[r]; j++, at++) {
        const p = sum > 0 ? row[j] / sum : 1 / rows.lengths[r];
        gathered[at] = p;
        if (p > 0) h -= p * Math.log2(p);
      }
    }
    entropy[c] = h;
  }
  const values = new Float32Array(cells * cells);
  const count = rows.sentence.length;
  for (let a = 0; a < cells; a++) {
    for (let b = a + 1; b < cells; b++) {
      // JSD = H((P + Q) / 2) − (H(P) + H(Q)) / 2, summed over rows.
      let hm = 0;
      const pa = a * width;
      const pb = b * width;
      for (let i = 0; i < width; i++) {
        const m = 0.5 * (gathered[pa + i] + gathered[pb + i]);
        if (m > 0) hm -= m * Math.log2(m);
      }
      const jsd = Math.max(0, (hm - 0.5 * (entropy[a] + entropy[b])) / count);
      values[a * cells + b] = values[b * cells + a] = Math.sqrt(Math.min(1, jsd));
    }
  }
  return { kind: 'attention', cells, values, sampled: count, total: all.total };
}

/** `norms`: each head's normalization (the paper's, index layer × heads + head); none = raw vectors. */
export async function geometryDistances(
  data: RunData,
  vectors: HeadReader,
  norms?: readonly HeadNormalization[],
  budget = GEOMETRY_BUDGET,
): Promise<HeadDistances> {
  const cells = data.layers * data.heads;
  const D = data.headDim;
  const N = data.tokenCount;
  // Cost per pair: (2m)² for the Gram matrices' inner product.
  const m = Math.max(2, Math.min(N, Math.floor(Math.sqrt(budget / Math.max(1, pairs(cells))) / 2)));
  const tokens = Int32Array.from({ length: m }, (_, t) => Math.min(N - 1, Math.floor(((t + 0.5) * N) / m)));
  const n = 2 * m;
  // Each head's Gram matrix of its centred joint cloud (queries then keys), upper triangle packed.
  const packed = (n * (n + 1)) / 2;
  const grams = new Float64Array(cells * packed);
  const norm2 = new Float64Array(cells);
  const x = new Float64Array(n * D);
  const q = new Float32Array(m * D);
  const k = new Float32Array(m * D);
  for (let c = 0; c < cells; c++) {
    const v = await vectors.head(c);
    for (let t = 0; t < m; t++) {
      q.set(v.q.subarray(tokens[t] * D, tokens[t] * D + D), t * D);
      k.set(v.k.subarray(tokens[t] * D, tokens[t] * D + D), t * D);
    }
    if (norms) applyNormalization(q, k, D, norms[c], x.subarray(0, m * D), x.subarray(m * D));
    else {
      x.set(q, 0);
      x.set(k, m * D);
    }
    for (let d = 0; d < D; d++) {
      let mean = 0;
      for (let i = 0; i < n; i++) mean += x[i * D + d];
      mean /= n;
      for (let i = 0; i < n; i++) x[i * D + d] -= mean;
    }
    // Off-diagonal entries are stored times √2, so ⟨A, B⟩_F (which counts them twice) is a plain dot product.
    let at = c * packed;
    let f = 0;
    for (let i = 0; i < n; i++) {
      for (let j = i; j < n; j++, at++) {
        let dot = 0;
        for (let d = 0; d < D; d++) dot += x[i * D + d] * x[j * D + d];
        grams[at] = i === j ? dot : Math.SQRT2 * dot;
        f += grams[at] * grams[at];
      }
    }
    norm2[c] = f;
  }
  const values = new Float32Array(cells * cells);
  for (let a = 0; a < cells; a++) {
    for (let b = a + 1; b < cells; b++) {
      let inner = 0;
      const ga = a * packed;
      const gb = b * packed;
      for (let i = 0; i < packed; i++) inner += grams[ga + i] * grams[gb + i];
      const denominator = Math.sqrt(norm2[a] * norm2[b]);
      const cka = denominator > 0 ? Math.min(1, Math.max(0, inner / denominator)) : a === b ? 1 : 0;
      values[a * cells + b] = values[b * cells + a] = Math.acos(cka) / (Math.PI / 2);
    }
  }
  return { kind: 'geometry', cells, values, sampled: m, total: N };
}

/** The `k` heads nearest `cell` (itself excluded), nearest first. */
export function nearestHeads(distances: HeadDistances, cell: number, k: number): { cell: number; distance: number }[] {
  const row = distances.values.subarray(cell * distances.cells, (cell + 1) * distances.cells);
  return Array.from(row, (distance, c) => ({ cell: c, distance }))
    .filter((e) => e.cell !== cell)
    .sort((x, y) => x.distance - y.distance || x.cell - y.cell)
    .slice(0, k);
}
