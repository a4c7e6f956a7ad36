// The engine on every architecture, against Hugging Face transformers' own float64 vectors:
// tiny random checkpoints from scripts/make-reference-models.sh (encoders; GPT-2; Llama, Qwen
// and Mistral with grouped keys and sliding windows; Gemma 1-3 with soft-capped logits and
// local/global layers; Phi-3 and Pythia with partial rotary; OPT) go through the converter,
// onnxruntime-node and extractQueryKeys. Keys come per key head (a query head reads its
// group's), rotary runs keep either the rotated or the unrotated vectors (and, unrotated, the
// rotated ones beside them), and attention recomputed from Q/K as each layer computes it
// (scale, causal and sliding-window masks, soft-capping) equals the model's own on every head,
// in the JavaScript check and the analysis passes; recomputed without the model's mask or
// its layers' own attention rules, it must not.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { analyzeHeads } from '../../../lib/analysis/analyze';
import { checkAttention } from '../../../lib/analysis/attentionCheck';
import { plainAttention } from '../../../lib/data/attention';
import { extractQueryKeys } from '../../../lib/engine/extract';
import { type OrtModule, openModel } from '../../../lib/engine/runtime';
import { tokenizeCorpus } from '../../../lib/corpus/tokenize';
import { convertCheckpoint } from '../../../lib/model/manifest';
import { loadTokenizer } from '../../../lib/model/tokenizer';
import { REFERENCE_FIXTURES, REFERENCE_MODELS, readReference } from '../../helpers/reference';

const FIXTURES = REFERENCE_FIXTURES;
const ARCHITECTURES = REFERENCE_MODELS;

describe('every architecture through the engine', () => {
  it.each(ARCHITECTURES)('%s: per-query-head keys, attention from Q/K equals the model’s on every head, tokenizer files', async (name) => {
    const dir = join(FIXTURES, name);
    const ref = readReference(dir);
    const { spec, onnx } = await convertCheckpoint(
      readFileSync(join(dir, 'config.json'), 'utf8'),
      new Uint8Array(readFileSync(join(dir, 'model.safetensors'))),
      name,
    );
    expect(spec.kvHeads).toBe(ref.kvHeads);
    const tokenizer = await loadTokenizer({
      kind: 'files',
      tokenizer: JSON.parse(readFileSync(join(dir, 'tokenizer.json'), 'utf8')),
      config: JSON.parse(readFileSync(join(dir, 'tokenizer_config.json'), 'utf8')),
    });
    const corpus = tokenizeCorpus(tokenizer, ref.sentences, spec.maxTokens);
    expect(corpus.sentences.map((s) => s.ids)).toEqual(ref.ids);
    const runner = await openModel(ort as unknown as OrtModule, onnx, ['cpu']);
    try {
      for (const rotary of spec.rotary ? (['post', 'pre'] as const) : [undefined]) {
        const data = await extractQueryKeys(runner, name, spec, corpus, { rotary });
        const post = spec.rotary && rotary !== 'pre';
        const kv = spec.kvHeads ?? spec.heads;
        expect(data.keys.length).toBe(spec.layers * kv * data.tokenCount * spec.headDim);
        let worst = 0;
        let rotatedWorst = 0;
        for (let l = 0; l < spec.layers; l++) {
          for (let h = 0; h < spec.heads; h++) {
            const g = Math.floor(h / (spec.heads / kv));
            ref.ids.forEach((ids, s) => {
              for (let t = 0; t < ids.length; t++) {
                for (let d = 0; d < spec.headDim; d++) {
                  const row = data.sentenceStarts[s] + t;
                  const q = ((l * spec.heads + h) * data.tokenCount + row) * spec.headDim + d;
                  const k = ((l * kv + g) * data.tokenCount + row) * spec.headDim + d;
                  worst = Math.max(worst, ref.relative(ref.q(l, h, s, t, d, post), data.queries[q]), ref.relative(ref.k(l, h, s, t, d, post), data.keys[k]));
                  // An unrotated run keeps the rotated vectors beside its own.
                  if (data.rotated)
                    rotatedWorst = Math.max(
                      rotatedWorst,
                      ref.relative(ref.q(l, h, s, t, d, true), data.rotated.queries[q]),
                      ref.relative(ref.k(l, h, s, t, d, true), data.rotated.keys[k]),
                    );
                }
              }
            });
          }
        }
        expect(worst).toBeLessThan(1e-4);
        expect(rotatedWorst).toBeLessThan(1e-4);
        expect(!!data.rotated).toBe(rotary === 'pre');
        expect(checkAttention(data).maxAbsError).toBeLessThan(1e-5);
        expect((await analyzeHeads(data)).attentionCheck.maxAbsError).toBeLessThan(1e-5);
        if (spec.causal) expect(checkAttention({ ...data, causal: false }).maxAbsError).toBeGreaterThan(1e-3);
        // Gemma's soft-capping and scale, Mistral's and Gemma's sliding windows: plain softmax(q·k/√d) is not what they compute.
        if (spec.attention) expect(checkAttention({ ...data, attention: plainAttention(spec.layers, spec.headDim) }).maxAbsError).toBeGreaterThan(1e-3);
      }
    } finally {
      await runner.release();
    }
  });
});
