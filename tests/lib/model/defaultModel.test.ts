// The converted default model (all-MiniLM-L6-v2) is wired right: its graph agrees with an
// independent forward pass on the real weights, its attention equals softmax(QKᵀ/√d + mask)
// recomputed from its own Q/K outputs, and its sentence embeddings rank paraphrases first.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { PreTrainedTokenizer } from '@huggingface/transformers';
import type * as ort from 'onnxruntime-node';
import { beforeAll, describe, expect, it } from 'vitest';
import type { ModelManifest } from '../../../lib/model/manifest';
import { attentionOutput, keyOutput, LAST_HIDDEN_STATE, MASK_LOGIT, queryOutput } from '../../../lib/model/outputs';
import { readSafetensors } from '../../../lib/model/safetensors';
import { loadTokenizer } from '../../../lib/model/tokenizer';
import { DEFAULT_MODEL, DEFAULT_MODEL_DIR, DEFAULT_SOURCE_DIR, MODELS_DIR, openSession, readJson, requireFile, runBatch } from '../../helpers/models';
import { referenceBertForward } from '../../helpers/referenceBert';

let session: ort.InferenceSession;
let tokenizer: PreTrainedTokenizer;
let manifest: ModelManifest;

beforeAll(async () => {
  manifest = readJson<ModelManifest>(join(DEFAULT_MODEL_DIR, 'qkviz-model.json'));
  session = await openSession(requireFile(join(DEFAULT_MODEL_DIR, 'model.onnx')));
  tokenizer = await loadTokenizer({ kind: 'local', modelsPath: MODELS_DIR, name: DEFAULT_MODEL });
});

describe('all-MiniLM-L6-v2 as converted', () => {
  it('has the documented shape: BERT, 6 layers, 12 heads of size 32, hidden 384, vocab 30,522, opset ≥ 17', () => {
    expect(manifest).toMatchObject({ modelType: 'bert', layers: 6, heads: 12, headDim: 32, hidden: 384, vocabSize: 30522, maxTokens: 512 });
    expect(manifest.onnx.opset).toBeGreaterThanOrEqual(17);
    for (let l = 0; l < 6; l++) {
      for (const name of [queryOutput(l), keyOutput(l), attentionOutput(l)]) expect(session.outputNames).toContain(name);
    }
  });

  it('tokenizes the seed notebook’s sentence as bert-base-uncased did', () => {
    expect(tokenizer.tokenize('The brown capybara is sleeping now.')).toEqual(['the', 'brown', 'cap', '##y', '##bara', 'is', 'sleeping', 'now', '.']);
  });

  it('agrees with an independent float64 forward pass over the original safetensors weights', async () => {
    const tensors = readSafetensors(new Uint8Array(readFileSync(requireFile(join(DEFAULT_SOURCE_DIR, 'model.safetensors')))));
    const ids = tokenizer.encode('The brown capybara is sleeping now.');
    const ref = referenceBertForward(tensors, { layers: 6, heads: 12, hidden: 384, intermediate: 1536, eps: 1e-12 }, ids);
    const { outputs } = await runBatch(session, [ids]);
    const maxDiff = (got: Float32Array, want: Float64Array[]) =>
      Math.max(...want.flatMap((row, t) => Array.from(row, (v, i) => Math.abs(got[t * 384 + i] - v))));
    expect(maxDiff(outputs[LAST_HIDDEN_STATE].data as Float32Array, ref.hidden)).toBeLessThan(1e-4);
    for (let l = 0; l < 6; l++) {
      expect(maxDiff(outputs[queryOutput(l)].data as Float32Array, ref.queries[l])).toBeLessThan(1e-4);
      expect(maxDiff(outputs[keyOutput(l)].data as Float32Array, ref.keys[l])).toBeLessThan(1e-4);
    }
  });

  it('gives attention equal to softmax(q·k/√d + mask) recomputed from its own Q/K, every layer and head (≤ 1e-5)', async () => {
    const corpus = readFileSync(join(__dirname, '..', '..', '..', 'public', 'corpus', 'default.txt'), 'utf8')
      .split('\n')
      .filter(Boolean);
    // The shortest, the longest and four in between in one batch, so padding and the mask are exercised.
    const byLength = corpus.map((s) => tokenizer.encode(s)).sort((x, y) => x.length - y.length);
    const batch = [0, 0.2, 0.4, 0.6, 0.8, 1].map((f) => byLength[Math.round(f * (byLength.length - 1))]);
    const { outputs, seq } = await runBatch(session, batch);
    const { heads: NH, headDim: D, hidden: H } = manifest;
    let maxError = 0;
    let maxPaddedWeight = 0;
    for (let l = 0; l < manifest.layers; l++) {
      const q = outputs[queryOutput(l)].data as Float32Array;
      const k = outputs[keyOutput(l)].data as Float32Array;
      const a = outputs[attentionOutput(l)].data as Float32Array;
      batch.forEach((ids, b) => {
        const n = ids.length;
        for (let h = 0; h < NH; h++) {
          for (let i = 0; i < n; i++) {
            const logits = new Float64Array(seq);
            for (let j = 0; j < seq; j++) {
              let dot = 0;
              for (let d = 0; d < D; d++) dot += q[(b * seq + i) * H + h * D + d] * k[(b * seq + j) * H + h * D + d];
              logits[j] = dot / Math.sqrt(D) + (j < n ? 0 : MASK_LOGIT);
            }
            const m = Math.max(...logits);
            const e = logits.map((z) => Math.exp(z - m));
            const total = e.reduce((s, v) => s + v, 0);
            for (let j = 0; j < seq; j++) {
              const got = a[((b * NH + h) * seq + i) * seq + j];
              maxError = Math.max(maxError, Math.abs(got - e[j] / total));
              if (j >= n) maxPaddedWeight = Math.max(maxPaddedWeight, got);
            }
          }
        }
      });
    }
    console.log(
      `[qkviz] max |attention recomputed − attention| over 6 layers × 12 heads × ${batch.length} sentences (padded to ${seq}): ${maxError.toExponential(2)}`,
    );
    expect(maxError).toBeLessThanOrEqual(1e-5);
    expect(maxPaddedWeight).toBe(0);
  });
});

describe('sentence embeddings (mean-pooled, L2-normalised) rank paraphrases above unrelated sentences', () => {
  const triples = [
    ['He ate a slice of fresh bread for breakfast.', 'For breakfast he had a piece of fresh bread.', 'The stock market fell sharply after the announcement.'],
    ['The cat is sleeping on the sofa.', 'A cat naps on the couch.', 'The central bank raised interest rates again.'],
    ['It will rain heavily tomorrow.', 'Tomorrow there will be a lot of rain.', 'She plays the violin in the city orchestra.'],
    ['How do I reset my password?', 'What are the steps to change my password?', 'Penguins live in the Southern Hemisphere.'],
    ['The football team won the championship.', 'The soccer club took the title.', 'Bake the cake for forty minutes at 180 degrees.'],
    ['A man is playing a guitar on the street.', 'Someone is strumming a guitar outside.', 'The committee approved the new budget.'],
  ];

  it('for every pair, with a clear margin', async () => {
    const sentences = triples.flat();
    const batch = sentences.map((s) => tokenizer.encode(s));
    const { outputs, seq } = await runBatch(session, batch);
    const hidden = outputs[LAST_HIDDEN_STATE].data as Float32Array;
    const H = manifest.hidden;
    const embeddings = batch.map((ids, b) => {
      const v = new Float64Array(H);
      for (let t = 0; t < ids.length; t++) for (let i = 0; i < H; i++) v[i] += hidden[(b * seq + t) * H + i] / ids.length;
      const norm = Math.hypot(...v);
      return v.map((x) => x / norm);
    });
    const cos = (x: Float64Array, y: Float64Array) => x.reduce((s, v, i) => s + v * y[i], 0);
    const rows = triples.map((_, i) => {
      const [a, p, u] = [embeddings[3 * i], embeddings[3 * i + 1], embeddings[3 * i + 2]];
      return { paraphrase: cos(a, p), unrelated: cos(a, u) };
    });
    console.log('[qkviz] cosine(paraphrase) vs cosine(unrelated):', rows.map((r) => `${r.paraphrase.toFixed(3)} vs ${r.unrelated.toFixed(3)}`).join('; '));
    for (const r of rows) expect(r.paraphrase - r.unrelated).toBeGreaterThan(0.3);
  });
});
