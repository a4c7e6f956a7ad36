// Attention recomputed in the tests' own float64 code from query/key rows, for
// comparisons with the model's and lib's results.

/** softmax(q_i·k_j/√d) over rows [row0, row0+n) of one head's [token][dim] arrays. */
export function softmaxBlock(q: ArrayLike<number>, k: ArrayLike<number>, dim: number, row0: number, n: number): Float64Array[] {
  const rows: Float64Array[] = [];
  for (let i = 0; i < n; i++) {
    const logits = new Float64Array(n);
    for (let j = 0; j < n; j++) {
      let dot = 0;
      for (let d = 0; d < dim; d++) dot += q[(row0 + i) * dim + d] * k[(row0 + j) * dim + d];
      logits[j] = dot / Math.sqrt(dim);
    }
    const max = Math.max(...logits);
    const e = logits.map((z) => Math.exp(z - max));
    const total = e.reduce((a, b) => a + b, 0);
    rows.push(e.map((z) => z / total));
  }
  return rows;
}
