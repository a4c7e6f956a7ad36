// What attention moves, on the real default model: each head's value norms the graph gives
// are ‖v_j·W_O,h‖ of its own values and the checkpoint's output projection, computed here in
// float64; an extraction hands them over whichever window or batch a sentence falls in; the
// per-head share of ‖α·f(x)‖ on [CLS]/[SEP] is the attention share when every value has the
// same norm (an invariant), equals a brute-force recomputation from the run's attention, and
// comes out the same window by window; and the view's reweighed block keeps rows summing to 1
// while a key that moves nothing drops out of the top links.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { analyzeHeads, headInputs, headSums } from '../../../lib/analysis/analyze';
import { runSentenceAttention } from '../../../lib/analysis/attention';
import { HeadSums } from '../../../lib/analysis/sums';
import { tokenizeCorpus } from '../../../lib/corpus/tokenize';
import { type QueryKeyData, headValueNorms, headValues, headVectors } from '../../../lib/data/layout';
import { batchFeeds, extractQueryKeys, planWindows } from '../../../lib/engine/extract';
import { valueNormOutput, valueOutput } from '../../../lib/model/outputs';
import { TensorSource } from '../../../lib/model/tensors';
import { type NodeModel, openNodeModel } from '../../../lib/node/model';
import { topKLinks, valueWeightedBlock } from '../../../lib/views/links';
import { defaultSentences } from '../../helpers/extraction';
import { DEFAULT_MODEL_DIR, DEFAULT_SOURCE_DIR, requireFile } from '../../helpers/models';

let model: NodeModel;
let data: QueryKeyData;
const sentences = defaultSentences().slice(0, 60);

beforeAll(async () => {
  model = await openNodeModel(DEFAULT_MODEL_DIR);
  data = await extractQueryKeys(model.runner, model.manifest.name, model.manifest, tokenizeCorpus(model.tokenizer, sentences, 512));
});
afterAll(async () => {
  await model?.runner.release();
});

const close = (a: number, b: number, tolerance: number) => expect(Math.abs(a - b)).toBeLessThanOrEqual(tolerance * (1 + Math.abs(b)));

describe('value norms of the default model', () => {
  it('are ‖v_j·W_O,h‖ of the graph’s values and the checkpoint’s output projection (float64 here), in every head; the extraction keeps both', async () => {
    const source = await TensorSource.fromBytes(new Uint8Array(readFileSync(requireFile(join(DEFAULT_SOURCE_DIR, 'model.safetensors')))));
    const { layers: L, heads: NH, headDim: D, hidden: H } = model.manifest;
    const corpus = tokenizeCorpus(model.tokenizer, sentences.slice(0, 3), 512);
    const batch = [0, 1, 2];
    const { feeds, seq } = batchFeeds(corpus, batch, 0, model.runner.inputNames);
    const names = Array.from({ length: L }, (_, l) => [valueOutput(l), valueNormOutput(l)]).flat();
    const out = await model.runner.run(feeds, names);
    let worst = 0;
    for (let l = 0; l < L; l++) {
      const name = source.names().find((n) => n.endsWith(`layer.${l}.attention.output.dense.weight`))!;
      const w = await source.float32(name); // [out = H][in = NH·D]
      const v = out[valueOutput(l)];
      const norms = out[valueNormOutput(l)];
      batch.forEach((s, b) => {
        for (let h = 0; h < NH; h++) {
          for (let t = 0; t < corpus.sentences[s].ids.length; t++) {
            let square = 0;
            for (let o = 0; o < H; o++) {
              let f = 0;
              for (let d = 0; d < D; d++) f += v[(b * seq + t) * H + h * D + d] * w[o * H + h * D + d];
              square += f * f;
            }
            const want = Math.sqrt(square);
            worst = Math.max(worst, Math.abs(norms[(b * NH + h) * seq + t] - want) / want);
            // The extraction's copy: the same numbers wherever the sentence was batched.
            close(headValueNorms(data, l * NH + h)![data.sentenceStarts[s] + t], want, 1e-5);
            const stored = headValues(data, l * NH + h)!;
            for (let d = 0; d < D; d++) close(stored[(data.sentenceStarts[s] + t) * D + d], v[(b * seq + t) * H + h * D + d], 1e-5);
          }
        }
      });
    }
    console.log(`[qkviz] default model: value norms within ${worst.toExponential(2)} (relative) of ‖v·W_O,h‖ in float64`);
    expect(worst).toBeLessThan(1e-5);
  });
});

describe('the share of ‖α·f(x)‖ on [CLS]/[SEP]', () => {
  it('is the attention share when every value has the same norm', () => {
    for (const cell of [0, 30, 71]) {
      const { q, k } = headVectors(data, Math.floor(cell / data.heads), cell % data.heads);
      const inputs = headInputs(data, cell);
      const got = headSums(q, k, { ...inputs, valueNorms: new Float32Array(data.tokenCount).fill(2.5) }).attention;
      close(got.valueSpecialShare!, got.specialShare, 1e-9);
    }
  });

  it('equals a brute-force recomputation from the run’s attention, and the same window by window', async () => {
    const analysis = await analyzeHeads(data);
    let differs = 0;
    for (const cell of [4, 38, 65]) {
      const [layer, head] = [Math.floor(cell / data.heads), cell % data.heads];
      const norms = headValueNorms(data, cell)!;
      let total = 0;
      data.sentences.forEach((s, si) => {
        const a = runSentenceAttention(data, layer, head, si);
        const n = s.ids.length;
        const f = norms.subarray(data.sentenceStarts[si], data.sentenceStarts[si] + n);
        for (let i = 0; i < n; i++) {
          const moved = Array.from({ length: n }, (_, j) => a[i * n + j] * f[j]);
          total += (moved[0] + moved[n - 1]) / moved.reduce((x, y) => x + y, 0);
        }
      });
      const want = total / data.tokenCount;
      const figures = analysis.heads[cell].attention;
      close(figures.valueSpecialShare!, want, 1e-6);
      differs = Math.max(differs, Math.abs(figures.valueSpecialShare! - figures.specialShare));
      // Window by window, as a run gathers it while the model runs.
      const { q, k } = headVectors(data, layer, head);
      const D = data.headDim;
      const sums = new HeadSums(D, data.attention[layer], false);
      for (const w of planWindows(
        data.sentences.map((s) => s.ids.length),
        120,
      )) {
        const [r0, r1] = [data.sentenceStarts[w.sentenceStart], data.sentenceStarts[w.sentenceEnd]];
        const starts = Int32Array.from({ length: w.sentenceEnd - w.sentenceStart + 1 }, (_, i) => data.sentenceStarts[w.sentenceStart + i] - r0);
        sums.add({ q: q.subarray(r0 * D, r1 * D), k: k.subarray(r0 * D, r1 * D), vn: norms.subarray(r0, r1), sentenceStarts: starts });
      }
      close(sums.finish(k).attention.valueSpecialShare!, want, 1e-6);
    }
    // Not the attention share under another name: value norms change it.
    expect(differs).toBeGreaterThan(1e-3);
  });
});

describe('links weighed by what attention moves', () => {
  it('keep each row summing to 1, α_ij·‖f_j‖ over the row’s sum, and drop a key that moves nothing', () => {
    const n = 4;
    const block = Float32Array.from([0.5, 0.3, 0.2, 0, 0.1, 0.6, 0.3, 0, 0.25, 0.25, 0.25, 0.25, 0.7, 0.1, 0.1, 0.1]);
    const norms = [1e-6, 2, 1, 4];
    const weighed = valueWeightedBlock(block, n, norms);
    for (let i = 0; i < n; i++) {
      const sum = [0, 1, 2, 3].reduce((x, j) => x + block[i * n + j] * norms[j], 0);
      for (let j = 0; j < n; j++) close(weighed[i * n + j], (block[i * n + j] * norms[j]) / sum, 1e-6);
      close(
        [0, 1, 2, 3].reduce((x, j) => x + weighed[i * n + j], 0),
        1,
        1e-6,
      );
    }
    // Row 0 attends most to key 0, whose value is ~0: by attention it is the top link, by ‖α·f(x)‖ it is gone.
    expect(topKLinks(block, n, 0, false, 1, 0.05).key[0]).toBe(0);
    expect(topKLinks(weighed, n, 0, false, 1, 0.05).key[0]).toBe(1);
  });
});
