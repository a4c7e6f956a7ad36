// The level-of-detail sample order: a permutation of a head's points whose every prefix holds
// each sentence (and queries and keys) in proportion to its length, the same for a seed.
import { describe, expect, it } from 'vitest';
import { sampleOrder } from '../../../lib/views/lod';
import { seededRandom } from '../../../lib/util/random';

describe('sample order', () => {
  const lengths = [3, 40, 7, 120, 1, 18, 64, 9];
  const starts = new Int32Array(lengths.length + 1);
  lengths.forEach((n, s) => (starts[s + 1] = starts[s] + n));
  const N = starts[lengths.length];
  const order = sampleOrder(starts, N, seededRandom(3));

  it('is a permutation of the 2N points, deterministic for a seed', () => {
    expect(order.length).toBe(2 * N);
    expect(new Set(order).size).toBe(2 * N);
    expect(Math.min(...order)).toBe(0);
    expect(Math.max(...order)).toBe(2 * N - 1);
    expect(Array.from(sampleOrder(starts, N, seededRandom(3)))).toEqual(Array.from(order));
    expect(Array.from(sampleOrder(starts, N, seededRandom(4)))).not.toEqual(Array.from(order));
  });

  it('keeps every sentence in proportion in every prefix', () => {
    const sentenceOf = (p: number) => {
      const row = p < N ? p : p - N;
      let s = 0;
      while (starts[s + 1] <= row) s++;
      return s;
    };
    for (const prefix of [10, 37, 100, 250, 400, 2 * N]) {
      const counts = new Array(lengths.length).fill(0);
      let queries = 0;
      for (let i = 0; i < prefix; i++) {
        counts[sentenceOf(order[i])]++;
        if (order[i] < N) queries++;
      }
      lengths.forEach((n, s) => expect(Math.abs(counts[s] - (prefix * n) / N), `sentence ${s}, prefix ${prefix}`).toBeLessThanOrEqual(2));
      expect(Math.abs(queries - prefix / 2)).toBeLessThanOrEqual(Math.max(4, prefix * 0.15));
    }
  });
});
