// Random query/key vectors for a few sentences, with attention computed from them by the
// tests' own code: softmax(q·k/√d × logitFactor) (a factor ≠ 1 is a model whose attention is
// not what lib assumes).
import { type QueryKeyData, corpusLayout, headAttention, headVectors } from '../../lib/engine/layout';
import { seededRandom } from '../../lib/util/random';

export function randomData(seed: number, logitFactor = 1): QueryKeyData {
  const rand = seededRandom(seed);
  const gauss = () => Math.sqrt(-2 * Math.log(rand() + 1e-12)) * Math.cos(2 * Math.PI * rand());
  const lengths = [5, 9, 3, 12, 7];
  const layout = corpusLayout(lengths);
  const [layers, heads, headDim] = [2, 3, 8];
  const N = layout.tokenCount;
  const queries = Float32Array.from({ length: layers * heads * N * headDim }, () => 2 * gauss() + 0.7);
  const keys = Float32Array.from({ length: queries.length }, () => 3 * gauss() - 1.2);
  const attention = new Float32Array(layers * heads * layout.attentionSize);
  const data: QueryKeyData = {
    model: 'random',
    layers,
    heads,
    headDim,
    tokenCount: N,
    sentences: lengths.map((n, s) => ({ text: `s${s}`, ids: new Array(n).fill(1), tokens: new Array(n).fill('x'), start: layout.sentenceStarts[s] })),
    sentenceStarts: layout.sentenceStarts,
    attentionStarts: layout.attentionStarts,
    queries,
    keys,
    attention,
  };
  for (let l = 0; l < layers; l++) {
    for (let h = 0; h < heads; h++) {
      const { q, k } = headVectors(data, l, h);
      const a = headAttention(data, l, h);
      lengths.forEach((n, s) => {
        const row0 = layout.sentenceStarts[s];
        for (let i = 0; i < n; i++) {
          const logits = Array.from({ length: n }, (_, j) => {
            let dot = 0;
            for (let d = 0; d < headDim; d++) dot += q[(row0 + i) * headDim + d] * k[(row0 + j) * headDim + d];
            return (dot / Math.sqrt(headDim)) * logitFactor;
          });
          const max = Math.max(...logits);
          const e = logits.map((z) => Math.exp(z - max));
          const total = e.reduce((x, y) => x + y, 0);
          e.forEach((v, j) => (a[layout.attentionStarts[s] + i * n + j] = v / total));
        }
      });
    }
  }
  return data;
}
