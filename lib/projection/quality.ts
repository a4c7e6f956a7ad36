// Trustworthiness (Venna & Kaski 2001): how many of a point's nearest neighbours in a
// layout were not near it in the original space, weighted by how far down the original
// ranking they were. 1 = no intruders. Measured on a seeded sample of points, ranking each
// against all points, so it stays affordable at 10k+ points.
import { seededRandom } from '../util/random';

function sqDist(x: Float32Array | Float64Array, i: number, j: number, d: number): number {
  let s = 0;
  for (let c = 0; c < d; c++) {
    const t = x[i * d + c] - x[j * d + c];
    s += t * t;
  }
  return s;
}

export function trustworthiness(
  original: Float32Array,
  d: number,
  layout: Float32Array | Float64Array,
  dims: number,
  k: number,
  sampleSize: number,
  seed = 7,
): number {
  const n = original.length / d;
  const rand = seededRandom(seed);
  const sample = n <= sampleSize ? Array.from({ length: n }, (_, i) => i) : Array.from({ length: sampleSize }, () => Math.floor(rand() * n));
  const rank = new Int32Array(n);
  const order = Array.from({ length: n }, (_, i) => i);
  const dist = new Float64Array(n);
  let penalty = 0;
  for (const i of sample) {
    for (let j = 0; j < n; j++) dist[j] = j === i ? -1 : sqDist(original, i, j, d);
    order.sort((a, b) => dist[a] - dist[b]);
    order.forEach((j, r) => (rank[j] = r)); // rank 0 is i itself
    for (let j = 0; j < n; j++) dist[j] = j === i ? -1 : sqDist(layout, i, j, dims);
    const nearest = order
      .slice()
      .sort((a, b) => dist[a] - dist[b])
      .slice(1, k + 1);
    for (const j of nearest) if (rank[j] > k) penalty += rank[j] - k;
  }
  return 1 - (2 / (k * (2 * n - 3 * k - 1))) * (penalty / sample.length) * 1;
}
