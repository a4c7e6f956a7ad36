// Recomputes every head's attention as softmax(q·k/√d) over each sentence (a decoder's: over
// the tokens up to each query) from given query/key vectors (float64) and measures how far
// it is from the model's own attention.
// On raw vectors this checks the extraction; on normalized ones, that normalization kept attention.
import { type QueryKeyData, headAttention } from './layout';

export interface AttentionCheck {
  maxAbsError: number;
  /** Largest error relative to the attention value, over weights ≥ 1e-3. */
  maxRelError: number;
}

/** Over every head, or only `only` (the diagnostics panel checks the head it shows). */
export function checkAttention(data: QueryKeyData, queries = data.queries, keys = data.keys, only?: { layer: number; head: number }): AttentionCheck {
  const { layers, heads, headDim: D, tokenCount: N } = data;
  const scale = 1 / Math.sqrt(D);
  let maxAbsError = 0;
  let maxRelError = 0;
  const logits = new Float64Array(Math.max(...data.sentences.map((s) => s.ids.length)));
  for (let l = 0; l < layers; l++) {
    for (let h = 0; h < heads; h++) {
      if (only && (only.layer !== l || only.head !== h)) continue;
      const base = (l * heads + h) * N * D;
      const attention = headAttention(data, l, h);
      data.sentences.forEach((sentence, s) => {
        const n = sentence.ids.length;
        const row0 = data.sentenceStarts[s];
        const block = data.attentionStarts[s];
        for (let i = 0; i < n; i++) {
          const qi = base + (row0 + i) * D;
          const count = data.causal ? i + 1 : n;
          let max = -Infinity;
          for (let j = 0; j < count; j++) {
            const kj = base + (row0 + j) * D;
            let dot = 0;
            for (let d = 0; d < D; d++) dot += queries[qi + d] * keys[kj + d];
            logits[j] = dot * scale;
            if (logits[j] > max) max = logits[j];
          }
          let total = 0;
          for (let j = 0; j < count; j++) total += logits[j] = Math.exp(logits[j] - max);
          for (let j = 0; j < n; j++) {
            const want = attention[block + i * n + j];
            // A decoder's weights past the query must be 0.
            const err = j < count ? Math.abs(logits[j] / total - want) : Math.abs(want);
            if (err > maxAbsError) maxAbsError = err;
            if (want >= 1e-3 && err / want > maxRelError) maxRelError = err / want;
          }
        }
      });
    }
  }
  return { maxAbsError, maxRelError };
}
