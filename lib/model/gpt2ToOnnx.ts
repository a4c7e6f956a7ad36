// Converts a GPT-2 safetensors checkpoint into an ONNX decoder graph (opset 17) that, besides
// last_hidden_state, exposes every layer's query and key (the two thirds of the fused c_attn
// projection) and its causal attention probabilities. GPT-2 stores its projections as Conv1D,
// [in, out], which is already MatMul's right-hand side.
import { DataType, GraphBuilder } from '../onnx/graph';
import { ConversionError, type ConvertOptions, activation } from './bertToOnnx';
import { ATTENTION_MASK, INPUT_IDS, LAST_HIDDEN_STATE, MASK_LOGIT, attentionOutput, keyOutput, queryOutput } from './outputs';
import { configNumbers } from './config';
import type { SafeTensor } from './safetensors';

export interface Gpt2Config {
  layers: number;
  heads: number;
  hidden: number;
  headDim: number;
  intermediate: number;
  vocabSize: number;
  maxPositions: number;
  layerNormEps: number;
  activation: 'gelu_new' | 'gelu';
}

export function parseGpt2Config(json: Record<string, unknown>): Gpt2Config {
  const num = configNumbers(json, ConversionError);
  const hidden = num('n_embd');
  const heads = num('n_head');
  if (hidden % heads !== 0) throw new ConversionError(`n_embd ${hidden} is not divisible by ${heads} heads`);
  const activation = String(json.activation_function ?? 'gelu_new');
  if (activation !== 'gelu_new' && activation !== 'gelu') throw new ConversionError(`activation_function "${activation}" is not supported (gelu_new, gelu)`);
  if (json.scale_attn_by_inverse_layer_idx === true || json.scale_attn_weights === false) {
    throw new ConversionError('GPT-2 attention scaled other than by 1/√d is not supported');
  }
  return {
    layers: num('n_layer'),
    heads,
    hidden,
    headDim: hidden / heads,
    intermediate: typeof json.n_inner === 'number' ? json.n_inner : 4 * hidden,
    vocabSize: num('vocab_size'),
    maxPositions: num('n_positions'),
    layerNormEps: num('layer_norm_epsilon', 1e-5),
    activation,
  };
}

/** Tensors by name under the prefix the checkpoint uses ("" for GPT2Model, "transformer." for GPT2LMHeadModel). */
function weights(tensors: Map<string, SafeTensor>): (name: string, shape: number[]) => Float32Array {
  const prefix = ['', 'transformer.'].find((p) => tensors.has(`${p}wte.weight`));
  if (prefix === undefined) throw new ConversionError('no "wte.weight" tensor: this does not look like a GPT-2 checkpoint');
  return (name, shape) => {
    const t = tensors.get(prefix + name);
    if (!t) throw new ConversionError(`checkpoint has no tensor "${prefix + name}"`);
    if (t.shape.join('x') !== shape.join('x')) throw new ConversionError(`tensor "${name}" has shape [${t.shape}], config.json implies [${shape}]`);
    return t.data;
  };
}

export function convertGpt2ToOnnx(config: Gpt2Config, tensors: Map<string, SafeTensor>, options: ConvertOptions = {}): Uint8Array {
  const w = weights(tensors);
  const g = new GraphBuilder('qkviz_gpt2_decoder');
  const { hidden: H, heads: NH, headDim: D, intermediate: I, layers: L } = config;
  const inputIds = g.input(INPUT_IDS, DataType.INT64, ['batch', 'sequence']);
  const mask = g.input(ATTENTION_MASK, DataType.INT64, ['batch', 'sequence']);

  const tensor = (name: string, shape: number[]) => g.floatTensor(name, w(name, shape), shape);
  const conv1d = (x: string, name: string, inDim: number, outDim: number) =>
    g.node('Add', [g.node('MatMul', [x, tensor(`${name}.weight`, [inDim, outDim])]), tensor(`${name}.bias`, [outDim])]);
  const layerNorm = (x: string, name: string) =>
    g.node('LayerNormalization', [x, tensor(`${name}.weight`, [H]), tensor(`${name}.bias`, [H])], { axis: -1, epsilon: { float: config.layerNormEps } });

  // Token + learned position embeddings (positions 0 … seq − 1).
  const seqLen = g.node('Gather', [g.node('Shape', [inputIds]), g.int64Tensor('const.one_index', [1], [])], { axis: 0 });
  const zero = g.int64Tensor('const.zero', [0], []);
  const one = g.int64Tensor('const.one', [1], []);
  const positions = g.node('Range', [zero, seqLen, one]);
  let x = g.node('Add', [
    g.node('Gather', [tensor('wte.weight', [config.vocabSize, H]), inputIds]),
    g.node('Gather', [tensor('wpe.weight', [config.maxPositions, H]), positions]),
  ]);

  // Additive mask [batch, 1, seq, seq]: MASK_LOGIT above the diagonal (a query sees only the
  // tokens up to it) and on padded keys.
  const rows = g.node('Unsqueeze', [positions, g.int64Tensor('const.axis1', [1])]);
  const cols = g.node('Unsqueeze', [positions, g.int64Tensor('const.axis0', [0])]);
  const future = g.node('Cast', [g.node('Less', [rows, cols])], { to: DataType.FLOAT });
  const padded = g.node('Sub', [g.scalar('const.f_one', 1), g.node('Cast', [mask], { to: DataType.FLOAT })]);
  const padded4 = g.node('Unsqueeze', [padded, g.int64Tensor('const.mask_axes', [1, 2])]);
  const blocked = g.node('Min', [g.node('Add', [future, padded4]), g.scalar('const.f_one_cap', 1)]);
  const maskBias = g.node('Mul', [blocked, g.scalar('const.mask_logit', MASK_LOGIT)]);

  const splitHeads = g.int64Tensor('const.split_heads', [0, 0, NH, D]);
  const mergeHeads = g.int64Tensor('const.merge_heads', [0, 0, H]);
  const thirds = g.int64Tensor('const.thirds', [H, H, H]);
  const invSqrtD = g.scalar('const.inv_sqrt_d', 1 / Math.sqrt(D));
  const half = g.scalar('const.half', 0.5);
  // Only the erf GELU reads 1/√2 (an unused initializer would make onnxruntime warn).
  const invSqrt2 = config.activation === 'gelu' ? g.scalar('const.inv_sqrt2', Math.SQRT1_2) : '';

  for (let l = 0; l < L; l++) {
    const p = `h.${l}`;
    const qkv = conv1d(layerNorm(x, `${p}.ln_1`), `${p}.attn.c_attn`, H, 3 * H);
    const v = g.fresh(`${p}.v`);
    g.node('Split', [qkv, thirds], { axis: -1 }, [queryOutput(l), keyOutput(l), v]);
    g.output(queryOutput(l), DataType.FLOAT, ['batch', 'sequence', H]);
    g.output(keyOutput(l), DataType.FLOAT, ['batch', 'sequence', H]);
    const qh = g.node('Transpose', [g.node('Reshape', [queryOutput(l), splitHeads])], { perm: [0, 2, 1, 3] });
    const kt = g.node('Transpose', [g.node('Reshape', [keyOutput(l), splitHeads])], { perm: [0, 2, 3, 1] });
    const vh = g.node('Transpose', [g.node('Reshape', [v, splitHeads])], { perm: [0, 2, 1, 3] });
    const logits = g.node('Add', [g.node('Mul', [g.node('MatMul', [qh, kt]), invSqrtD]), maskBias]);
    g.node('Softmax', [logits], { axis: -1 }, [attentionOutput(l)]);
    g.output(attentionOutput(l), DataType.FLOAT, ['batch', NH, 'sequence', 'sequence']);
    const context = g.node('Reshape', [g.node('Transpose', [g.node('MatMul', [attentionOutput(l), vh])], { perm: [0, 2, 1, 3] }), mergeHeads]);
    x = g.node('Add', [x, conv1d(context, `${p}.attn.c_proj`, H, H)]);
    const inner = conv1d(layerNorm(x, `${p}.ln_2`), `${p}.mlp.c_fc`, H, I);
    x = g.node('Add', [x, conv1d(activation(g, inner, config.activation, half, invSqrt2), `${p}.mlp.c_proj`, I, H)]);
  }
  g.node('Identity', [layerNorm(x, 'ln_f')], undefined, [LAST_HIDDEN_STATE]);
  g.output(LAST_HIDDEN_STATE, DataType.FLOAT, ['batch', 'sequence', H]);
  return g.toBytes({
    producer: 'qkviz',
    docString: 'GPT-2 decoder with per-layer query/key projections and causal attention probabilities as outputs',
    metadata: { source: options.sourceName ?? 'unknown', layers: String(L), heads: String(NH), head_dim: String(D), causal: 'true' },
  });
}
