// Random-weight decoders with real models' matrix shapes (SmolLM2-135M: 30 layers × 9 query
// heads over 3 key heads; Qwen2.5-0.5B: 24 × 14 over 2, with q/k/v biases) but head size 4,
// built from the tiny fixtures' configs and tokenizers: test fixtures for the matrix at those
// sizes, never presented as trained models.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from './models';
import { type HubBytes, repoFromDir } from './hubServer';
import { seededRandom, writeSafetensors } from './safetensorsWriter';

const FIXTURES = join(ROOT, 'tests', 'fixtures', 'hub', 'qkviz-test');

export interface DecoderShape {
  base: 'tiny-llama' | 'tiny-qwen2';
  layers: number;
  heads: number;
  kvHeads: number;
  headDim: number;
}

export const SMOLLM2_SHAPE: DecoderShape = { base: 'tiny-llama', layers: 30, heads: 9, kvHeads: 3, headDim: 4 };
export const QWEN25_SHAPE: DecoderShape = { base: 'tiny-qwen2', layers: 24, heads: 14, kvHeads: 2, headDim: 4 };

/** A hub repository's files for a decoder of this shape. */
export function shapedDecoder(shape: DecoderShape, seed = 7): Map<string, HubBytes> {
  const dir = join(FIXTURES, shape.base);
  const config = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
  const hidden = shape.heads * shape.headDim;
  const inner = 2 * hidden;
  const kv = shape.kvHeads * shape.headDim;
  Object.assign(config, {
    num_hidden_layers: shape.layers,
    num_attention_heads: shape.heads,
    num_key_value_heads: shape.kvHeads,
    head_dim: shape.headDim,
    hidden_size: hidden,
    intermediate_size: inner,
  });
  if (Array.isArray(config.layer_types)) config.layer_types = Array(shape.layers).fill('full_attention');
  const random = seededRandom(seed);
  const matrix = (rows: number, cols: number) => ({ shape: [rows, cols], data: Float32Array.from({ length: rows * cols }, () => (random() * 2 - 1) * 0.3) });
  const vector = (n: number, value?: number) => ({ shape: [n], data: Float32Array.from({ length: n }, () => value ?? (random() * 2 - 1) * 0.1) });
  const biases = shape.base === 'tiny-qwen2';
  const tensors: Record<string, { shape: number[]; data: Float32Array }> = {
    'embed_tokens.weight': matrix(config.vocab_size, hidden),
    'norm.weight': vector(hidden, 1),
  };
  for (let l = 0; l < shape.layers; l++) {
    const p = `layers.${l}`;
    tensors[`${p}.input_layernorm.weight`] = vector(hidden, 1);
    tensors[`${p}.post_attention_layernorm.weight`] = vector(hidden, 1);
    tensors[`${p}.self_attn.q_proj.weight`] = matrix(hidden, hidden);
    tensors[`${p}.self_attn.k_proj.weight`] = matrix(kv, hidden);
    tensors[`${p}.self_attn.v_proj.weight`] = matrix(kv, hidden);
    tensors[`${p}.self_attn.o_proj.weight`] = matrix(hidden, hidden);
    if (biases) {
      tensors[`${p}.self_attn.q_proj.bias`] = vector(hidden);
      tensors[`${p}.self_attn.k_proj.bias`] = vector(kv);
      tensors[`${p}.self_attn.v_proj.bias`] = vector(kv);
    }
    tensors[`${p}.mlp.gate_proj.weight`] = matrix(inner, hidden);
    tensors[`${p}.mlp.up_proj.weight`] = matrix(inner, hidden);
    tensors[`${p}.mlp.down_proj.weight`] = matrix(hidden, inner);
  }
  const files = repoFromDir(dir, ['tokenizer.json', 'tokenizer_config.json']);
  files.set('config.json', new TextEncoder().encode(JSON.stringify(config, null, 2)));
  files.set('model.safetensors', writeSafetensors(tensors));
  return files;
}
