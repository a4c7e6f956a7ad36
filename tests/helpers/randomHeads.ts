// Random query/key vectors for a few sentences, with "the model's" attention on every sentence
// computed by the tests' own code: softmax(q·k/√d × logitFactor) (a factor ≠ 1 is a model
// whose attention is not what lib recomputes), causal when asked, grouped keys when asked.
import { plainAttention } from '../../lib/data/attention';
import { type QueryKeyData, corpusLayout, headVectors } from '../../lib/data/layout';
import { seededRandom } from '../../lib/util/random';

export interface RandomOptions {
  logitFactor?: number;
  causal?: boolean;
  /** Key heads (grouped-query attention); default: one per query head. */
  kvHeads?: number;
  heads?: number;
}

export function randomData(seed: number, logitFactorOrOptions: number | RandomOptions = 1): QueryKeyData {
  const options = typeof logitFactorOrOptions === 'number' ? { logitFactor: logitFactorOrOptions } : logitFactorOrOptions;
  const logitFactor = options.logitFactor ?? 1;
  const rand = seededRandom(seed);
  const gauss = () => Math.sqrt(-2 * Math.log(rand() + 1e-12)) * Math.cos(2 * Math.PI * rand());
  const lengths = [5, 9, 3, 12, 7];
  const layout = corpusLayout(lengths);
  const layers = 2;
  const heads = options.heads ?? 3;
  const kvHeads = options.kvHeads ?? heads;
  const headDim = 8;
  const N = layout.tokenCount;
  const queries = Float32Array.from({ length: layers * heads * N * headDim }, () => 2 * gauss() + 0.7);
  const keys = Float32Array.from({ length: layers * kvHeads * N * headDim }, () => 3 * gauss() - 1.2);
  const sample = new Float32Array(layers * heads * layout.pairCount);
  const data: QueryKeyData = {
    model: 'random',
    layers,
    heads,
    headDim,
    kvHeads,
    causal: options.causal ?? false,
    tokenCount: N,
    sentences: lengths.map((n, s) => ({ text: `s${s}`, ids: new Array(n).fill(1), tokens: new Array(n).fill('x'), start: layout.sentenceStarts[s] })),
    sentenceStarts: layout.sentenceStarts,
    queries,
    keys,
    attention: plainAttention(layers, headDim),
    attentionSample: { sentences: Int32Array.from(lengths, (_, s) => s), blocks: layout.pairStarts, values: sample },
  };
  for (let l = 0; l < layers; l++) {
    for (let h = 0; h < heads; h++) {
      const { q, k } = headVectors(data, l, h);
      const a = sample.subarray((l * heads + h) * layout.pairCount, (l * heads + h + 1) * layout.pairCount);
      lengths.forEach((n, s) => {
        const row0 = layout.sentenceStarts[s];
        for (let i = 0; i < n; i++) {
          const keysSeen = options.causal ? i + 1 : n;
          const logits = Array.from({ length: keysSeen }, (_, j) => {
            let dot = 0;
            for (let d = 0; d < headDim; d++) dot += q[(row0 + i) * headDim + d] * k[(row0 + j) * headDim + d];
            return (dot / Math.sqrt(headDim)) * logitFactor;
          });
          const max = Math.max(...logits);
          const e = logits.map((z) => Math.exp(z - max));
          const total = e.reduce((x, y) => x + y, 0);
          e.forEach((v, j) => (a[layout.pairStarts[s] + i * n + j] = v / total));
        }
      });
    }
  }
  return data;
}
