// A small seeded PRNG (mulberry32): the same seed gives the same sequence in Node and in
// every browser, which keeps sampled metrics and layouts reproducible.

/** mulberry32 with its state readable (the WebAssembly UMAP epoch carries the sequence on from it). */
export interface SeededGenerator {
  next: () => number;
  readonly state: number;
}

export function seededGenerator(seed: number): SeededGenerator {
  let a = seed >>> 0;
  return {
    next: () => {
      a = (a + 0x6d2b79f5) >>> 0;
      let t = a;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    },
    get state() {
      return a;
    },
  };
}

export function seededRandom(seed: number): () => number {
  return seededGenerator(seed).next;
}
