// Converts a GPT-2 safetensors checkpoint into an ONNX decoder graph (opset 17) that, besides
// last_hidden_state, exposes every layer's query, key and value (the thirds of the fused c_attn
// projection), each head's value norms through c_proj, and its causal attention probabilities. GPT-2 stores its projections as Conv1D,
// [in, out], which is already MatMul's right-hand side.
import { DataType, GraphBuilder } from '../onnx/graph';
import { configNumbers } from './config';
import { ConversionError } from './errors';
import { activation, attentionMask, layerNorm, positionsOf, valueNorms } from './layers';
import { ATTENTION_MASK, INPUT_IDS, LAST_HIDDEN_STATE, attentionOutput, keyOutput, queryOutput, valueNormOutput, valueOutput } from './outputs';
import type { TensorSource } from './tensors';
import { type WeightFormat, Weights } from './weights';

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

/** The graph of `config`'s decoder, its weights read from `source` when the graph is written. */
export function buildGpt2Graph(config: Gpt2Config, source: TensorSource, format: WeightFormat): GraphBuilder {
  const prefix = ['', 'transformer.'].find((p) => source.has(`${p}wte.weight`));
  if (prefix === undefined) throw new ConversionError('no "wte.weight" tensor: this does not look like a GPT-2 checkpoint');
  const g = new GraphBuilder('qkviz_gpt2_decoder');
  const w = new Weights(g, source, format);
  const { hidden: H, heads: NH, headDim: D, intermediate: I, layers: L } = config;
  const inputIds = g.input(INPUT_IDS, DataType.INT64, ['batch', 'sequence']);
  const mask = g.input(ATTENTION_MASK, DataType.INT64, ['batch', 'sequence']);

  // Conv1D keeps [in, out]; a fused c_attn's thirds are selected by offset.
  const conv1d = (x: string, name: string, inDim: number, outDim: number, part?: { of: number; offset: number }, outputName?: string) =>
    w.linear(
      x,
      {
        weight: `${prefix}${name}.weight`,
        bias: `${prefix}${name}.bias`,
        inDim,
        outDim,
        layout: 'in-out',
        ...(part ? { sourceOut: part.of, select: (o: number) => part.offset + o } : {}),
      },
      outputName,
    );
  const norm = (x: string, name: string) => layerNorm(w, x, prefix + name, H, config.layerNormEps);

  // Token + learned position embeddings (positions 0 … seq − 1).
  const { positions } = positionsOf(g, inputIds);
  let x = g.node('Add', [
    w.embedding(inputIds, `${prefix}wte.weight`, config.vocabSize, H),
    g.node('Gather', [w.matrix(`${prefix}wpe.weight`, [config.maxPositions, H]), positions]),
  ]);
  // Additive mask [batch, 1, seq, seq]: above the diagonal (a query sees only the tokens up to it) and padded keys.
  const maskBias = attentionMask(g, positions, mask, { causal: true });
  const splitHeads = g.int64Tensor('const.split_heads', [0, 0, NH, D]);
  const mergeHeads = g.int64Tensor('const.merge_heads', [0, 0, H]);
  const invSqrtD = g.scalar('const.inv_sqrt_d', 1 / Math.sqrt(D));

  for (let l = 0; l < L; l++) {
    const p = `h.${l}`;
    const h = norm(x, `${p}.ln_1`);
    const q = conv1d(h, `${p}.attn.c_attn`, H, H, { of: 3 * H, offset: 0 }, queryOutput(l));
    const k = conv1d(h, `${p}.attn.c_attn`, H, H, { of: 3 * H, offset: H }, keyOutput(l));
    const v = conv1d(h, `${p}.attn.c_attn`, H, H, { of: 3 * H, offset: 2 * H }, valueOutput(l));
    g.output(queryOutput(l), DataType.FLOAT, ['batch', 'sequence', H]);
    g.output(keyOutput(l), DataType.FLOAT, ['batch', 'sequence', H]);
    g.output(valueOutput(l), DataType.FLOAT, ['batch', 'sequence', H]);
    const qh = g.node('Transpose', [g.node('Reshape', [q, splitHeads])], { perm: [0, 2, 1, 3] });
    const kt = g.node('Transpose', [g.node('Reshape', [k, splitHeads])], { perm: [0, 2, 3, 1] });
    const vh = g.node('Transpose', [g.node('Reshape', [v, splitHeads])], { perm: [0, 2, 1, 3] });
    const logits = g.node('Add', [g.node('Mul', [g.node('MatMul', [qh, kt]), invSqrtD]), maskBias]);
    g.node('Softmax', [logits], { axis: -1 }, [attentionOutput(l)]);
    g.output(attentionOutput(l), DataType.FLOAT, ['batch', NH, 'sequence', 'sequence']);
    valueNorms(g, vh, w.headGram({ weight: `${prefix}${p}.attn.c_proj.weight`, layout: 'in-out' }, NH, D, H), NH, valueNormOutput(l));
    const context = g.node('Reshape', [g.node('Transpose', [g.node('MatMul', [attentionOutput(l), vh])], { perm: [0, 2, 1, 3] }), mergeHeads]);
    x = g.node('Add', [x, conv1d(context, `${p}.attn.c_proj`, H, H)]);
    const inner = conv1d(norm(x, `${p}.ln_2`), `${p}.mlp.c_fc`, H, I);
    x = g.node('Add', [x, conv1d(activation(g, inner, config.activation === 'gelu' ? 'gelu' : 'gelu_tanh'), `${p}.mlp.c_proj`, I, H)]);
  }
  g.node('Identity', [norm(x, 'ln_f')], undefined, [LAST_HIDDEN_STATE]);
  g.output(LAST_HIDDEN_STATE, DataType.FLOAT, ['batch', 'sequence', H]);
  return g;
}
