// Converts a Llama-family safetensors checkpoint (Llama/SmolLM, Qwen2 with q/k/v biases,
// Qwen3 with per-head q/k RMSNorm) into an ONNX decoder graph (opset 17) whose outputs are
// every layer's queries and keys before the rotary embedding (query_pre_l, key_pre_l) and
// after it (query_l, key_l: what attention uses), and its causal attention probabilities.
// RMSNorm, SwiGLU, rotary positions (rope_theta; "default" and "llama3" scaling, as
// transformers computes them, halves rotated as its rotate_half), grouped-query attention
// (num_key_value_heads: query head h reads key head ⌊h / group⌋).
import { DataType, GraphBuilder } from '../onnx/graph';
import { ConversionError, type ConvertOptions, transpose } from './bertToOnnx';
import { ATTENTION_MASK, INPUT_IDS, LAST_HIDDEN_STATE, MASK_LOGIT, attentionOutput, keyOutput, keyPreOutput, queryOutput, queryPreOutput } from './outputs';
import { configNumbers } from './config';
import type { SafeTensor } from './safetensors';

export const LLAMA_FAMILY = new Set(['llama', 'qwen2', 'qwen3']);

export interface RopeScaling {
  type: 'default' | 'llama3';
  factor?: number;
  lowFreqFactor?: number;
  highFreqFactor?: number;
  originalMaxPositions?: number;
}

export interface LlamaConfig {
  modelType: string;
  layers: number;
  heads: number;
  kvHeads: number;
  hidden: number;
  headDim: number;
  intermediate: number;
  vocabSize: number;
  maxPositions: number;
  rmsNormEps: number;
  ropeTheta: number;
  rope: RopeScaling;
  /** Qwen3: RMSNorm of each head's query and key before the rotation. */
  qkNorm: boolean;
}

export function parseLlamaConfig(json: Record<string, unknown>): LlamaConfig {
  const num = configNumbers(json, ConversionError);
  const modelType = String(json.model_type);
  if (!LLAMA_FAMILY.has(modelType)) throw new ConversionError(`model_type "${modelType}" is not Llama-family (supported: ${[...LLAMA_FAMILY].join(', ')})`);
  const hidden = num('hidden_size');
  const heads = num('num_attention_heads');
  const kvHeads = num('num_key_value_heads', heads);
  if (heads % kvHeads !== 0) throw new ConversionError(`${heads} query heads do not split into ${kvHeads} key/value groups`);
  const act = String(json.hidden_act ?? 'silu');
  if (act !== 'silu') throw new ConversionError(`hidden_act "${act}" is not supported (silu)`);
  // transformers ≥ 5 writes rope_parameters; older configs rope_theta and rope_scaling.
  const params = (json.rope_parameters ?? json.rope_scaling ?? {}) as Record<string, unknown>;
  const type = String(params.rope_type ?? params.type ?? 'default');
  if (type !== 'default' && type !== 'llama3') throw new ConversionError(`rope scaling "${type}" is not supported (default, llama3)`);
  const rope: RopeScaling =
    type === 'llama3'
      ? {
          type,
          factor: Number(params.factor),
          lowFreqFactor: Number(params.low_freq_factor),
          highFreqFactor: Number(params.high_freq_factor),
          originalMaxPositions: Number(params.original_max_position_embeddings),
        }
      : { type };
  return {
    modelType,
    layers: num('num_hidden_layers'),
    heads,
    kvHeads,
    hidden,
    headDim: num('head_dim', hidden / heads),
    intermediate: num('intermediate_size'),
    vocabSize: num('vocab_size'),
    maxPositions: num('max_position_embeddings'),
    rmsNormEps: num('rms_norm_eps', 1e-6),
    ropeTheta: typeof params.rope_theta === 'number' ? params.rope_theta : num('rope_theta', 10000),
    rope,
    qkNorm: modelType === 'qwen3',
  };
}

/** transformers' inverse frequencies for the rotary embedding, float32 as it computes them. */
export function ropeInverseFrequencies(config: LlamaConfig): Float32Array {
  const D = config.headDim;
  const inv = Float32Array.from({ length: D / 2 }, (_, i) => 1 / config.ropeTheta ** ((2 * i) / D));
  if (config.rope.type !== 'llama3') return inv;
  const { factor = 1, lowFreqFactor = 1, highFreqFactor = 1, originalMaxPositions = config.maxPositions } = config.rope;
  const lowWavelen = originalMaxPositions / lowFreqFactor;
  const highWavelen = originalMaxPositions / highFreqFactor;
  return inv.map((f) => {
    const wavelen = (2 * Math.PI) / f;
    if (wavelen > lowWavelen) return f / factor;
    if (wavelen < highWavelen) return f;
    const smooth = (originalMaxPositions / wavelen - lowFreqFactor) / (highFreqFactor - lowFreqFactor);
    return (1 - smooth) * (f / factor) + smooth * f;
  });
}

export function convertLlamaToOnnx(config: LlamaConfig, tensors: Map<string, SafeTensor>, options: ConvertOptions = {}): Uint8Array {
  const prefix = ['', 'model.'].find((p) => tensors.has(`${p}embed_tokens.weight`));
  if (prefix === undefined) throw new ConversionError('no "embed_tokens.weight" tensor: this does not look like a Llama-family checkpoint');
  const get = (name: string, shape: number[]): Float32Array => {
    const t = tensors.get(prefix + name);
    if (!t) throw new ConversionError(`checkpoint has no tensor "${prefix + name}"`);
    if (t.shape.join('x') !== shape.join('x')) throw new ConversionError(`tensor "${name}" has shape [${t.shape}], config.json implies [${shape}]`);
    return t.data;
  };
  const g = new GraphBuilder(`qkviz_${config.modelType}_decoder`);
  const { hidden: H, heads: NH, kvHeads: KV, headDim: D, intermediate: I, layers: L } = config;
  const G = NH / KV;
  const inputIds = g.input(INPUT_IDS, DataType.INT64, ['batch', 'sequence']);
  const mask = g.input(ATTENTION_MASK, DataType.INT64, ['batch', 'sequence']);

  const linear = (x: string, name: string, inDim: number, outDim: number, outputName?: string): string => {
    const weight = g.floatTensor(`${name}.weight`, transpose(get(`${name}.weight`, [outDim, inDim]), outDim, inDim), [inDim, outDim]);
    const product = g.node('MatMul', [x, weight], undefined, outputName && !tensors.has(`${prefix}${name}.bias`) ? [outputName] : undefined);
    if (!tensors.has(`${prefix}${name}.bias`)) return product;
    return g.node('Add', [product, g.floatTensor(`${name}.bias`, get(`${name}.bias`, [outDim]), [outDim])], undefined, outputName ? [outputName] : undefined);
  };
  const eps = g.scalar('const.rms_eps', config.rmsNormEps);
  const two = g.scalar('const.two', 2);
  // RMSNorm over the last axis: x / √(mean(x²) + ε) · weight.
  const rmsNorm = (x: string, name: string, size: number, outputName?: string): string => {
    const meanSquare = g.node('ReduceMean', [g.node('Pow', [x, two])], { axes: [-1], keepdims: 1 });
    const normed = g.node('Div', [x, g.node('Sqrt', [g.node('Add', [meanSquare, eps])])]);
    return g.node('Mul', [normed, g.floatTensor(`${name}.weight`, get(`${name}.weight`, [size]), [size])], undefined, outputName ? [outputName] : undefined);
  };

  let x = g.node('Gather', [g.floatTensor('embed_tokens.weight', get('embed_tokens.weight', [config.vocabSize, H]), [config.vocabSize, H]), inputIds]);

  // Positions 0 … seq − 1; the rotary angles pos · inv_freq (float32, as transformers), each
  // half of a head's dimensions turned by the same angles ([seq, D], cos and sin).
  const seqLen = g.node('Gather', [g.node('Shape', [inputIds]), g.int64Tensor('const.one_index', [1], [])], { axis: 0 });
  const positions = g.node('Range', [g.int64Tensor('const.zero', [0], []), seqLen, g.int64Tensor('const.one', [1], [])]);
  const angles = g.node('Mul', [
    g.node('Unsqueeze', [g.node('Cast', [positions], { to: DataType.FLOAT }), g.int64Tensor('const.axis1', [1])]),
    g.floatTensor('const.inv_freq', ropeInverseFrequencies(config), [1, D / 2]),
  ]);
  const doubled = g.node('Concat', [angles, angles], { axis: -1 });
  const cos = g.node('Cos', [doubled]);
  const sin = g.node('Sin', [doubled]);
  const halves = g.int64Tensor('const.halves', [D / 2, D / 2]);
  // x·cos + rotate_half(x)·sin on [b, seq, heads, D], with cos/sin [seq, 1, D].
  const cos3 = g.node('Unsqueeze', [cos, g.int64Tensor('const.axis1b', [1])]);
  const sin3 = g.node('Unsqueeze', [sin, g.int64Tensor('const.axis1c', [1])]);
  const rotate = (v: string): string => {
    const first = g.fresh('rot.first');
    const second = g.fresh('rot.second');
    g.node('Split', [v, halves], { axis: -1 }, [first, second]);
    const rotated = g.node('Concat', [g.node('Neg', [second]), first], { axis: -1 });
    return g.node('Add', [g.node('Mul', [v, cos3]), g.node('Mul', [rotated, sin3])]);
  };

  // Additive mask [batch, 1, 1, seq, seq] (broadcast over key groups and their query heads).
  const rows = g.node('Unsqueeze', [positions, g.int64Tensor('const.rows_axis', [1])]);
  const cols = g.node('Unsqueeze', [positions, g.int64Tensor('const.cols_axis', [0])]);
  const future = g.node('Cast', [g.node('Less', [rows, cols])], { to: DataType.FLOAT });
  const padded = g.node('Sub', [g.scalar('const.f_one', 1), g.node('Cast', [mask], { to: DataType.FLOAT })]);
  const padded5 = g.node('Unsqueeze', [padded, g.int64Tensor('const.mask_axes', [1, 2, 3])]);
  const maskBias = g.node('Mul', [g.node('Min', [g.node('Add', [future, padded5]), g.scalar('const.f_one_cap', 1)]), g.scalar('const.mask_logit', MASK_LOGIT)]);

  const qHeads = g.int64Tensor('const.q_heads', [0, 0, NH, D]);
  const kvHeadShape = g.int64Tensor('const.kv_heads', [0, 0, KV, D]);
  const qFlat = g.int64Tensor('const.q_flat', [0, 0, NH * D]);
  const kvFlat = g.int64Tensor('const.kv_flat', [0, 0, KV * D]);
  const grouped = g.int64Tensor('const.grouped', [0, 0, KV, G, D]);
  const attentionShape = g.int64Tensor('const.attention_shape', [0, NH, -1, 0]);
  const merged = g.int64Tensor('const.merged', [0, 0, NH * D]);
  const scale = g.scalar('const.scale', 1 / Math.sqrt(D));

  for (let l = 0; l < L; l++) {
    const p = `layers.${l}`;
    const h = rmsNorm(x, `${p}.input_layernorm`, H);
    let q = g.node('Reshape', [linear(h, `${p}.self_attn.q_proj`, H, NH * D), qHeads]);
    let k = g.node('Reshape', [linear(h, `${p}.self_attn.k_proj`, H, KV * D), kvHeadShape]);
    const v = g.node('Reshape', [linear(h, `${p}.self_attn.v_proj`, H, KV * D), kvHeadShape]);
    if (config.qkNorm) {
      q = rmsNorm(q, `${p}.self_attn.q_norm`, D);
      k = rmsNorm(k, `${p}.self_attn.k_norm`, D);
    }
    g.node('Reshape', [q, qFlat], undefined, [queryPreOutput(l)]);
    g.node('Reshape', [k, kvFlat], undefined, [keyPreOutput(l)]);
    const qr = rotate(q);
    const kr = rotate(k);
    g.node('Reshape', [qr, qFlat], undefined, [queryOutput(l)]);
    g.node('Reshape', [kr, kvFlat], undefined, [keyOutput(l)]);
    for (const [name, size] of [
      [queryPreOutput(l), NH * D],
      [keyPreOutput(l), KV * D],
      [queryOutput(l), NH * D],
      [keyOutput(l), KV * D],
    ] as const) {
      g.output(name, DataType.FLOAT, ['batch', 'sequence', size]);
    }
    // Query heads grouped by their key head: [b, KV, G, seq, D] against keys [b, KV, 1, D, seq].
    const qg = g.node('Transpose', [g.node('Reshape', [qr, grouped])], { perm: [0, 2, 3, 1, 4] });
    const kt = g.node('Unsqueeze', [g.node('Transpose', [kr], { perm: [0, 2, 3, 1] }), g.int64Tensor(g.fresh('const.group_axis'), [2])]);
    const logits = g.node('Add', [g.node('Mul', [g.node('MatMul', [qg, kt]), scale]), maskBias]);
    const probs = g.node('Softmax', [logits], { axis: -1 });
    g.node('Reshape', [probs, attentionShape], undefined, [attentionOutput(l)]);
    g.output(attentionOutput(l), DataType.FLOAT, ['batch', NH, 'sequence', 'sequence']);
    const vg = g.node('Unsqueeze', [g.node('Transpose', [v], { perm: [0, 2, 1, 3] }), g.int64Tensor(g.fresh('const.group_axis'), [2])]);
    const context = g.node('Reshape', [g.node('Transpose', [g.node('MatMul', [probs, vg])], { perm: [0, 3, 1, 2, 4] }), merged]);
    x = g.node('Add', [x, linear(context, `${p}.self_attn.o_proj`, NH * D, H)]);
    const m = rmsNorm(x, `${p}.post_attention_layernorm`, H);
    const gate = linear(m, `${p}.mlp.gate_proj`, H, I);
    const silu = g.node('Mul', [gate, g.node('Sigmoid', [gate])]);
    x = g.node('Add', [x, linear(g.node('Mul', [silu, linear(m, `${p}.mlp.up_proj`, H, I)]), `${p}.mlp.down_proj`, I, H)]);
  }
  rmsNorm(x, 'norm', H, LAST_HIDDEN_STATE);
  g.output(LAST_HIDDEN_STATE, DataType.FLOAT, ['batch', 'sequence', H]);
  return g.toBytes({
    producer: 'qkviz',
    docString: `${config.modelType} decoder with per-layer query/key (before and after the rotary embedding) and causal attention probabilities as outputs`,
    metadata: {
      source: options.sourceName ?? 'unknown',
      layers: String(L),
      heads: String(NH),
      kv_heads: String(KV),
      head_dim: String(D),
      causal: 'true',
      rotary: 'true',
    },
  });
}
