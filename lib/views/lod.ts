// Level of detail for the matrix: every head's points are stored in one order in which each
// prefix is a representative sample of the corpus (stratified by sentence, queries and keys
// alike), so drawing the first B points of every cell draws a fair sample of each head.

/**
 * An order of a head's 2N points (queries 0…N−1, keys N…2N−1) whose every prefix holds each
 * sentence's points in proportion to its length: each point gets the key (rank + u) / n, with
 * its rank in a shuffled order of its sentence's 2n points and u uniform in [0, 1), and the
 * points are sorted by key. Deterministic for a seed.
 */
export function sampleOrder(sentenceStarts: Int32Array, tokenCount: number, random: () => number): Int32Array {
  const points = 2 * tokenCount;
  const keys = new Float64Array(points);
  const sentences = sentenceStarts.length - 1;
  for (let s = 0; s < sentences; s++) {
    const first = sentenceStarts[s];
    const n = sentenceStarts[s + 1] - first;
    // The sentence's 2n points: its queries, then its keys, shuffled (Fisher–Yates).
    const own = new Int32Array(2 * n);
    for (let i = 0; i < n; i++) {
      own[i] = first + i;
      own[n + i] = tokenCount + first + i;
    }
    for (let i = own.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [own[i], own[j]] = [own[j], own[i]];
    }
    own.forEach((p, rank) => (keys[p] = (rank + random()) / own.length));
  }
  const order = new Int32Array(points);
  for (let p = 0; p < points; p++) order[p] = p;
  order.sort((a, b) => keys[a] - keys[b] || a - b);
  return order;
}

/**
 * Points the matrix overview holds in all: a still frame draws about a million, so a head's
 * points past its share of this are never drawn there — only the focused head and cells
 * zoomed in on are drawn in full, from their layouts. This bounds the overview geometry (24
 * bytes a slot, and the GPU's copy) whatever the corpus: 1.2M slots, not 29M at 200k tokens.
 */
export const MATRIX_POINTS = 1_200_000;
/** Bytes a slot of the renderer's point geometries takes (position, point index, ready, norm). */
export const GEOMETRY_BYTES_PER_POINT = 24;

/** Full layouts the page keeps at once for a run too large to keep them all (the focused head, cells zoomed in on). */
export const FULL_LAYOUT_BYTES = 160 * 1024 ** 2;

/** Slots of a cell kept together in the overview: a head's layout is written as this many ranges. */
export const BLOCK = 256;

/** The seed of every run's sample order (the page, the model worker and the caches agree on it). */
export const SAMPLE_SEED = 7;

/** Slots per cell the matrix overview holds: the first of each head's sample order (every point of a small run). */
export function overviewPoints(layers: number, heads: number, tokens: number): number {
  const share = Math.ceil(MATRIX_POINTS / (layers * heads) / BLOCK) * BLOCK;
  return Math.min(2 * tokens, share);
}

/**
 * A head's layout as the matrix overview holds it: the coordinates of the first `count` points
 * of the sample order, in that order ([slot][dims]). A run whose points all fit keeps its full
 * layouts instead (count = 2N): then nothing is gathered.
 */
export function overviewOf(coords: Float32Array, order: Int32Array, count: number, dims: number): Float32Array {
  const out = new Float32Array(count * dims);
  for (let v = 0; v < count; v++) {
    const p = order[v];
    for (let d = 0; d < dims; d++) out[v * dims + d] = coords[p * dims + d];
  }
  return out;
}
