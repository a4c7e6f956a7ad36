// Attention recomputed in the tests' own float64 code from query/key rows, for
// comparisons with the model's and lib's results.

/** softmax(scale · q_i·k_j) over rows [row0, row0+n) of one head's [token][dim] arrays (causal: keys up to i; window: keys fewer than `window` behind i; softcap: cap·tanh(z/cap)). */
export function softmaxBlock(
  q: ArrayLike<number>,
  k: ArrayLike<number>,
  dim: number,
  row0: number,
  n: number,
  options: { causal?: boolean; scale?: number; softcap?: number; window?: number } = {},
): Float64Array[] {
  const scale = options.scale ?? 1 / Math.sqrt(dim);
  const rows: Float64Array[] = [];
  for (let i = 0; i < n; i++) {
    const logits = new Float64Array(n).fill(-Infinity);
    for (let j = 0; j < n; j++) {
      if (options.causal && j > i) continue;
      if (options.window && i - j >= options.window) continue;
      let dot = 0;
      for (let d = 0; d < dim; d++) dot += q[(row0 + i) * dim + d] * k[(row0 + j) * dim + d];
      let z = dot * scale;
      if (options.softcap) z = options.softcap * Math.tanh(z / options.softcap);
      logits[j] = z;
    }
    const max = Math.max(...logits);
    const e = logits.map((z) => (z === -Infinity ? 0 : Math.exp(z - max)));
    const total = e.reduce((a, b) => a + b, 0);
    rows.push(e.map((z) => z / total));
  }
  return rows;
}
