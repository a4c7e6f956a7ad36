// The converters against Hugging Face transformers itself: tiny random-weight checkpoints of
// BERT, RoBERTa, DistilBERT, GPT-2, Llama (grouped keys, llama3 rope scaling), Qwen2 (q/k/v biases) and
// Qwen3 (per-head q/k RMSNorm), made by scripts/make-reference-models.sh with the library's
// own float64 queries, keys (before and after the rotation) and attention (causal for the
// decoders) for each
// reference sentence. The converted graphs must match them, each sentence alone and all
// right-padded in one batch.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildModelGraph } from '../../../lib/model/architectures';
import { attentionOutput, keyOutput, keyPreOutput, queryOutput, queryPreOutput } from '../../../lib/model/outputs';
import { TensorSource } from '../../../lib/model/tensors';
import { loadTokenizer } from '../../../lib/model/tokenizer';
import { openSession, runBatch } from '../../helpers/models';
import { REFERENCE_FIXTURES, REFERENCE_MODELS, readReference } from '../../helpers/reference';

const FIXTURES = REFERENCE_FIXTURES;
const ARCHITECTURES = REFERENCE_MODELS;

async function convert(name: string): Promise<{ onnx: Uint8Array; kvHeads: number }> {
  const dir = join(FIXTURES, name);
  const json = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
  const { spec, graph, meta } = buildModelGraph(json, await TensorSource.fromBytes(new Uint8Array(readFileSync(join(dir, 'model.safetensors')))), {
    sourceName: name,
  });
  return { onnx: await graph.bytes(meta), kvHeads: spec.kvHeads };
}

describe('converters against transformers', () => {
  it.each(ARCHITECTURES)('%s: transformers’ queries, keys and attention, alone and padded in a batch', async (name) => {
    const ref = readReference(join(FIXTURES, name));
    const { onnx, kvHeads } = await convert(name);
    expect(kvHeads).toBe(ref.kvHeads);
    const session = await openSession(onnx);
    const { layers: L, heads: NH, headDim: D } = ref;
    const group = NH / kvHeads;
    const worst = { q: 0, k: 0, qPre: 0, kPre: 0, attention: 0 };
    for (const batch of [...ref.ids.map((ids) => [ids]), ref.ids]) {
      const { outputs, seq } = await runBatch(session, batch);
      batch.forEach((ids, b) => {
        const s = ref.ids.indexOf(ids);
        for (let l = 0; l < L; l++) {
          const a = outputs[attentionOutput(l)].data as Float32Array;
          const vectors = ref.rotary
            ? ([
                [queryOutput(l), 'q', true],
                [keyOutput(l), 'k', true],
                [queryPreOutput(l), 'qPre', false],
                [keyPreOutput(l), 'kPre', false],
              ] as const)
            : ([
                [queryOutput(l), 'q', false],
                [keyOutput(l), 'k', false],
              ] as const);
          for (const [output, key, post] of vectors) {
            const data = outputs[output].data as Float32Array;
            const isKey = key === 'k' || key === 'kPre';
            const width = (isKey ? kvHeads : NH) * D;
            for (let h = 0; h < NH; h++) {
              for (let t = 0; t < ids.length; t++) {
                for (let d = 0; d < D; d++) {
                  const got = data[(b * seq + t) * width + (isKey ? Math.floor(h / group) : h) * D + d];
                  const want = isKey ? ref.k(l, h, s, t, d, post) : ref.q(l, h, s, t, d, post);
                  worst[key] = Math.max(worst[key], ref.relative(want, got));
                }
              }
            }
          }
          for (let h = 0; h < NH; h++) {
            for (let i = 0; i < ids.length; i++) {
              for (let j = 0; j < ids.length; j++)
                worst.attention = Math.max(worst.attention, Math.abs(ref.attention(l, h, s, i, j) - a[((b * NH + h) * seq + i) * seq + j]));
            }
          }
        }
      });
    }
    const shown = Object.entries(worst).filter(([k]) => ref.rotary || !k.endsWith('Pre'));
    console.log(`[qkviz] ${name} vs transformers: ${shown.map(([k, v]) => `${k} ${v.toExponential(1)}`).join(', ')}`);
    expect(Math.max(worst.q, worst.k, worst.qPre, worst.kPre)).toBeLessThan(1e-4);
    expect(worst.attention).toBeLessThan(1e-5);
  });

  it.each(ARCHITECTURES)('%s: transformers.js tokenizes the reference sentences to transformers’ ids, special tokens included', async (name) => {
    const tokenizer = await loadTokenizer({ kind: 'local', modelsPath: FIXTURES, name });
    const ref = readReference(join(FIXTURES, name));
    expect(ref.sentences.map((s) => Array.from(tokenizer(s).input_ids.data as BigInt64Array, Number))).toEqual(ref.ids);
  });
});
