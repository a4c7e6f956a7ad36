// A full-size random-weight checkpoint with a real model's config (Llama-3.2-1B: 16 layers ×
// 32 query heads over 8 key heads, head size 64, a 128,256-token embedding; 1.24B parameters
// in bfloat16, 2.5 GB), written to disk streaming, for the test that opens a 1B-parameter
// model by id through the local hub. Weights are uniform with transformers' initializer
// standard deviation (0.02), norms 1: a fixture, never presented as a trained model. The
// tokenizer is the tiny Llama fixture's (its ids are a subset of the vocabulary).
import { closeSync, copyFileSync, existsSync, mkdirSync, openSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from './models';

const FIXTURES = join(ROOT, 'tests', 'fixtures', 'hub', 'qkviz-test');

/** Llama-3.2-1B's config.json (architecture only; from its published configuration). */
export const LLAMA_32_1B_CONFIG = {
  architectures: ['LlamaForCausalLM'],
  model_type: 'llama',
  hidden_size: 2048,
  intermediate_size: 8192,
  num_hidden_layers: 16,
  num_attention_heads: 32,
  num_key_value_heads: 8,
  head_dim: 64,
  hidden_act: 'silu',
  max_position_embeddings: 131072,
  rms_norm_eps: 1e-5,
  rope_theta: 500000.0,
  rope_scaling: { factor: 32.0, high_freq_factor: 4.0, low_freq_factor: 1.0, original_max_position_embeddings: 8192, rope_type: 'llama3' },
  tie_word_embeddings: true,
  vocab_size: 128256,
  torch_dtype: 'bfloat16',
};

/** Names and shapes of a Llama config's tensors (the output head tied to the embedding, as Llama-3.2-1B's). */
export function llamaTensors(c: typeof LLAMA_32_1B_CONFIG): [string, number[]][] {
  const H = c.hidden_size;
  const kv = c.num_key_value_heads * c.head_dim;
  const q = c.num_attention_heads * c.head_dim;
  const out: [string, number[]][] = [['model.embed_tokens.weight', [c.vocab_size, H]]];
  for (let l = 0; l < c.num_hidden_layers; l++) {
    const p = `model.layers.${l}`;
    out.push(
      [`${p}.input_layernorm.weight`, [H]],
      [`${p}.self_attn.q_proj.weight`, [q, H]],
      [`${p}.self_attn.k_proj.weight`, [kv, H]],
      [`${p}.self_attn.v_proj.weight`, [kv, H]],
      [`${p}.self_attn.o_proj.weight`, [H, q]],
      [`${p}.post_attention_layernorm.weight`, [H]],
      [`${p}.mlp.gate_proj.weight`, [c.intermediate_size, H]],
      [`${p}.mlp.up_proj.weight`, [c.intermediate_size, H]],
      [`${p}.mlp.down_proj.weight`, [H, c.intermediate_size]],
    );
  }
  out.push(['model.norm.weight', [H]]);
  return out;
}

/**
 * Writes config.json, model.safetensors (bfloat16) and the tokenizer files into `dir`, unless
 * a complete copy is there already; returns the safetensors file's size.
 */
export function writeBigLlama(dir: string, seed = 1): number {
  const tensors = llamaTensors(LLAMA_32_1B_CONFIG);
  const header: Record<string, unknown> = { __metadata__: { format: 'pt', note: 'random weights: a QKViz test fixture' } };
  let offset = 0;
  for (const [name, shape] of tensors) {
    const bytes = 2 * shape.reduce((a, b) => a * b, 1);
    header[name] = { dtype: 'BF16', shape, data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  let json = JSON.stringify(header);
  while ((8 + json.length) % 8 !== 0) json += ' ';
  const headerBytes = new TextEncoder().encode(json);
  const total = 8 + headerBytes.length + offset;
  const path = join(dir, 'model.safetensors');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'config.json'), `${JSON.stringify(LLAMA_32_1B_CONFIG, null, 2)}\n`);
  for (const f of ['tokenizer.json', 'tokenizer_config.json']) copyFileSync(join(FIXTURES, 'tiny-llama', f), join(dir, f));
  if (existsSync(path) && statSync(path).size === total) return total;

  const fd = openSync(path, 'w');
  try {
    const prefix = new Uint8Array(8 + headerBytes.length);
    new DataView(prefix.buffer).setBigUint64(0, BigInt(headerBytes.length), true);
    prefix.set(headerBytes, 8);
    writeSync(fd, prefix);
    // xorshift32 → uniform in [−a, a] with a = 0.02·√3 (standard deviation 0.02), as bfloat16 (the top half of float32).
    let state = seed >>> 0 || 1;
    const a = 0.02 * Math.sqrt(3);
    const chunk = new Float32Array(1 << 22);
    const bits = new Uint32Array(chunk.buffer);
    const halves = new Uint16Array(chunk.length);
    for (const [name, shape] of tensors) {
      let left = shape.reduce((x, y) => x * y, 1);
      const norm = name.endsWith('norm.weight');
      while (left > 0) {
        const n = Math.min(left, chunk.length);
        for (let i = 0; i < n; i++) {
          if (norm) chunk[i] = 1;
          else {
            state ^= state << 13;
            state ^= state >>> 17;
            state ^= state << 5;
            chunk[i] = ((state >>> 0) / 4294967296 - 0.5) * 2 * a;
          }
        }
        for (let i = 0; i < n; i++) halves[i] = bits[i] >>> 16;
        writeSync(fd, new Uint8Array(halves.buffer, 0, 2 * n));
        left -= n;
      }
    }
  } finally {
    closeSync(fd);
  }
  return total;
}
