// The converter on a small random-weight BERT (a fixture, never shown as a trained model):
// the ONNX graph must agree with an independent float64 forward pass, padded or not, for
// checkpoints with a "bert." prefix and old gamma/beta LayerNorm names too.
import { describe, expect, it } from 'vitest';
import { buildBertGraph } from '../../../lib/model/bertToOnnx';
import { ModelConfigError, parseBertConfig } from '../../../lib/model/config';
import { ConversionError } from '../../../lib/model/errors';
import { TensorSource } from '../../../lib/model/tensors';
import { attentionOutput, keyOutput, LAST_HIDDEN_STATE, queryOutput } from '../../../lib/model/outputs';
import { readSafetensors } from '../../../lib/model/safetensors';
import { openSession, runBatch } from '../../helpers/models';
import { referenceBertForward } from '../../helpers/referenceBert';
import { seededRandom, writeSafetensors } from '../../helpers/safetensorsWriter';

const TINY = { layers: 2, heads: 4, hidden: 16, intermediate: 32, vocab: 50, positions: 24 };

function tinyCheckpoint(prefix: string, legacy: boolean, drop?: string): Uint8Array {
  const rand = seededRandom(7);
  const t: Record<string, { shape: number[]; data: Float32Array }> = {};
  const add = (name: string, shape: number[], scale = 0.3, offset = 0) => {
    let key = prefix + name;
    if (legacy) key = key.replace(/LayerNorm\.weight$/, 'LayerNorm.gamma').replace(/LayerNorm\.bias$/, 'LayerNorm.beta');
    const n = shape.reduce((a, b) => a * b, 1);
    t[key] = { shape, data: Float32Array.from({ length: n }, () => offset + (rand() * 2 - 1) * scale) };
  };
  const { hidden: H, intermediate: I } = TINY;
  add('embeddings.word_embeddings.weight', [TINY.vocab, H], 1);
  add('embeddings.position_embeddings.weight', [TINY.positions, H], 0.5);
  add('embeddings.token_type_embeddings.weight', [2, H], 0.2);
  add('embeddings.LayerNorm.weight', [H], 0.1, 1);
  add('embeddings.LayerNorm.bias', [H], 0.1);
  for (let l = 0; l < TINY.layers; l++) {
    const p = `encoder.layer.${l}`;
    for (const m of ['query', 'key', 'value']) {
      add(`${p}.attention.self.${m}.weight`, [H, H], 0.6);
      add(`${p}.attention.self.${m}.bias`, [H], 0.2);
    }
    add(`${p}.attention.output.dense.weight`, [H, H]);
    add(`${p}.attention.output.dense.bias`, [H], 0.1);
    add(`${p}.attention.output.LayerNorm.weight`, [H], 0.1, 1);
    add(`${p}.attention.output.LayerNorm.bias`, [H], 0.1);
    add(`${p}.intermediate.dense.weight`, [I, H]);
    add(`${p}.intermediate.dense.bias`, [I], 0.1);
    add(`${p}.output.dense.weight`, [H, I]);
    add(`${p}.output.dense.bias`, [H], 0.1);
    add(`${p}.output.LayerNorm.weight`, [H], 0.1, 1);
    add(`${p}.output.LayerNorm.bias`, [H], 0.1);
  }
  if (drop) delete t[drop];
  return writeSafetensors(t);
}

async function convert(bytes: Uint8Array, config: Record<string, unknown> = tinyConfig): Promise<Uint8Array> {
  return buildBertGraph(parseBertConfig(config), await TensorSource.fromBytes(bytes), 'float32').bytes({ producer: 'test' });
}

const tinyConfig = {
  model_type: 'bert',
  hidden_size: TINY.hidden,
  num_attention_heads: TINY.heads,
  num_hidden_layers: TINY.layers,
  intermediate_size: TINY.intermediate,
  vocab_size: TINY.vocab,
  max_position_embeddings: TINY.positions,
  type_vocab_size: 2,
  layer_norm_eps: 1e-12,
  hidden_act: 'gelu',
};

describe.each([
  { prefix: '', legacy: false },
  { prefix: 'bert.', legacy: true },
])('the BERT converter on a random tiny BERT (prefix "$prefix", gamma/beta: $legacy)', ({ prefix, legacy }) => {
  it('matches an independent float64 forward pass for every output, alone and in a padded batch', async () => {
    const bytes = tinyCheckpoint(prefix, legacy);
    const tensors = readSafetensors(bytes);
    const session = await openSession(await convert(bytes));
    const sentences = [
      [2, 17, 33, 5, 41, 9, 3],
      [2, 8, 3],
      [2, 49, 12, 12, 30, 1, 22, 14, 3],
    ];
    const { outputs, seq } = await runBatch(session, sentences);
    const H = TINY.hidden;
    let maxErr = 0;
    sentences.forEach((ids, b) => {
      const ref = referenceBertForward(tensors, { ...TINY, eps: 1e-12, prefix, legacyLayerNorm: legacy }, ids);
      const cmp = (got: number, want: number) => (maxErr = Math.max(maxErr, Math.abs(got - want)));
      const last = outputs[LAST_HIDDEN_STATE].data as Float32Array;
      for (let t = 0; t < ids.length; t++) for (let i = 0; i < H; i++) cmp(last[(b * seq + t) * H + i], ref.hidden[t][i]);
      for (let l = 0; l < TINY.layers; l++) {
        const q = outputs[queryOutput(l)].data as Float32Array;
        const k = outputs[keyOutput(l)].data as Float32Array;
        const a = outputs[attentionOutput(l)].data as Float32Array;
        for (let t = 0; t < ids.length; t++) {
          for (let i = 0; i < H; i++) {
            cmp(q[(b * seq + t) * H + i], ref.queries[l][t][i]);
            cmp(k[(b * seq + t) * H + i], ref.keys[l][t][i]);
          }
        }
        for (let h = 0; h < TINY.heads; h++) {
          for (let i = 0; i < ids.length; i++) {
            for (let j = 0; j < seq; j++) {
              const got = a[((b * TINY.heads + h) * seq + i) * seq + j];
              cmp(got, j < ids.length ? ref.attention[l][h][i][j] : 0);
            }
          }
        }
      }
    });
    expect(maxErr).toBeLessThan(2e-5);
  });
});

describe('converter errors', () => {
  it('names the missing tensor and the mismatched shape', async () => {
    await expect(convert(tinyCheckpoint('', false, 'encoder.layer.1.attention.self.key.bias'))).rejects.toThrow(
      /encoder\.layer\.1\.attention\.self\.key\.bias/,
    );
    await expect(convert(tinyCheckpoint('', false), { ...tinyConfig, intermediate_size: 40 })).rejects.toThrow(ConversionError);
  });

  it('refuses configs it cannot convert faithfully', () => {
    expect(() => parseBertConfig({ ...tinyConfig, model_type: 'gpt2' })).toThrow(ModelConfigError);
    expect(() => parseBertConfig({ ...tinyConfig, num_attention_heads: 5 })).toThrow(/divisible/);
    expect(() => parseBertConfig({ ...tinyConfig, position_embedding_type: 'relative_key' })).toThrow(/absolute/);
  });
});
