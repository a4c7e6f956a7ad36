// Builds the ONNX graph (opset 17) of a decoder described by a DecoderConfig: besides
// last_hidden_state, every layer's queries and keys as attention uses them (query_l, key_l:
// after the rotary embedding where there is one; before it as query_pre_l, key_pre_l), its
// values and each head's value norms through the output projection, and its attention
// probabilities, computed as the model does — grouped keys (query head h reads key
// head ⌊h / group⌋), causal and sliding-window masks, logit soft-capping, each layer's scale.
// Rotary halves are turned as transformers' rotate_half, over a head's leading `dims`.
import { DataType, GraphBuilder } from '../onnx/graph';
import { type DecoderConfig, type NormKind, type Rotary, ropeInverseFrequencies } from './decoders';
import { ConversionError } from './errors';
import { activation, attentionMask, layerNorm, positionsOf, rmsNorm, valueNorms } from './layers';
import {
  ATTENTION_MASK,
  INPUT_IDS,
  LAST_HIDDEN_STATE,
  attentionOutput,
  keyOutput,
  keyPreOutput,
  queryOutput,
  queryPreOutput,
  valueNormOutput,
  valueOutput,
} from './outputs';
import type { TensorSource } from './tensors';
import { type LinearSpec, type WeightFormat, Weights } from './weights';

/** Where a layout keeps its tensors: the prefixes tried and the tensor that finds them. */
const PROBES: Record<DecoderConfig['layout'], { names: string[]; probe: string }> = {
  llama: { names: ['', 'model.', 'model.language_model.', 'language_model.model.'], probe: 'embed_tokens.weight' },
  phi3: { names: ['', 'model.'], probe: 'embed_tokens.weight' },
  gpt_neox: { names: ['', 'gpt_neox.'], probe: 'embed_in.weight' },
  opt: { names: ['decoder.', 'model.decoder.'], probe: 'embed_tokens.weight' },
};

export function buildDecoderGraph(config: DecoderConfig, source: TensorSource, format: WeightFormat): GraphBuilder {
  const { names, probe } = PROBES[config.layout];
  const prefix = names.find((p) => source.has(p + probe));
  if (prefix === undefined) throw new ConversionError(`no "${probe}" tensor: this does not look like a ${config.modelType} checkpoint`);
  const g = new GraphBuilder(`qkviz_${config.modelType}_decoder`);
  const w = new Weights(g, source, format);
  const t = (name: string) => prefix + name;
  const { hidden: H, heads: NH, kvHeads: KV, headDim: D, intermediate: I, layers: L } = config;
  const G = NH / KV;
  const inputIds = g.input(INPUT_IDS, DataType.INT64, ['batch', 'sequence']);
  const mask = g.input(ATTENTION_MASK, DataType.INT64, ['batch', 'sequence']);
  const { positions } = positionsOf(g, inputIds);

  const linear = (x: string, name: string, inDim: number, outDim: number, extra: Partial<LinearSpec> = {}, outputName?: string) =>
    w.linear(x, { weight: t(`${name}.weight`), inDim, outDim, bias: w.has(t(`${name}.bias`)) ? t(`${name}.bias`) : undefined, ...extra }, outputName);
  const norm = (x: string, name: string, size: number, kind: NormKind = config.norm, outputName?: string) =>
    kind === 'layer' ? layerNorm(w, x, t(name), size, config.eps, outputName) : rmsNorm(w, x, t(name), size, config.eps, kind === 'rms1p' ? 1 : 0, outputName);

  // Token embeddings (scaled for Gemma), OPT's learned positions.
  let x: string;
  if (config.layout === 'opt') {
    let tokens = w.embedding(inputIds, t('embed_tokens.weight'), config.vocabSize, config.embedDim);
    if (config.embedDim !== H) tokens = linear(tokens, 'project_in', config.embedDim, H);
    if (config.positions.kind !== 'learned') throw new ConversionError('opt: positions are learned');
    const shifted = g.node('Add', [positions, g.int64Tensor('const.position_offset', [config.positions.offset], [])]);
    x = g.node('Add', [tokens, g.node('Gather', [w.matrix(t('embed_positions.weight'), [config.positions.rows, H]), shifted])]);
  } else {
    x = w.embedding(inputIds, t(config.layout === 'gpt_neox' ? 'embed_in.weight' : 'embed_tokens.weight'), config.vocabSize, H);
    if (config.embedScale !== 1) x = g.node('Mul', [x, g.scalar('const.embed_scale', config.embedScale)]);
  }

  // Masks [b, 1, 1, seq, seq] (broadcast over key heads and their groups): one per window size.
  const masks = new Map<number | undefined, string>();
  const maskFor = (window?: number) => {
    if (!masks.has(window)) masks.set(window, attentionMask(g, positions, mask, { causal: true, window, extraAxes: 1 }));
    return masks.get(window)!;
  };

  // cos / sin [seq, 1, dims] of each distinct rotary embedding.
  const rotations = new Map<Rotary, { cos: string; sin: string }>();
  const rotationOf = (r: Rotary) => {
    if (!rotations.has(r)) {
      const angles = g.node('Mul', [
        g.node('Unsqueeze', [g.node('Cast', [positions], { to: DataType.FLOAT }), g.int64Tensor(g.fresh('const.axis1'), [1])]),
        g.floatTensor(g.fresh('const.inv_freq'), ropeInverseFrequencies(r, config.maxPositions), [1, r.dims / 2]),
      ]);
      const doubled = g.node('Unsqueeze', [g.node('Concat', [angles, angles], { axis: -1 }), g.int64Tensor(g.fresh('const.head_axis'), [1])]);
      rotations.set(r, { cos: g.node('Cos', [doubled]), sin: g.node('Sin', [doubled]) });
    }
    return rotations.get(r)!;
  };
  // v·cos + rotate_half(v)·sin over the first r.dims of each head ([b, seq, heads, D]).
  const rotate = (v: string, r: Rotary) => {
    const { cos, sin } = rotationOf(r);
    let turned = v;
    let rest: string | null = null;
    if (r.dims < D) {
      turned = g.fresh('rot.part');
      rest = g.fresh('rot.rest');
      g.node('Split', [v, g.int64Tensor(g.fresh('const.rot_split'), [r.dims, D - r.dims])], { axis: -1 }, [turned, rest]);
    }
    const first = g.fresh('rot.first');
    const second = g.fresh('rot.second');
    g.node('Split', [turned, g.int64Tensor(g.fresh('const.halves'), [r.dims / 2, r.dims / 2])], { axis: -1 }, [first, second]);
    const half = g.node('Concat', [g.node('Neg', [second]), first], { axis: -1 });
    const rotated = g.node('Add', [g.node('Mul', [turned, cos]), g.node('Mul', [half, sin])]);
    return rest ? g.node('Concat', [rotated, rest], { axis: -1 }) : rotated;
  };

  const qHeads = g.int64Tensor('const.q_heads', [0, 0, NH, D]);
  const kvHeadShape = g.int64Tensor('const.kv_heads', [0, 0, KV, D]);
  const qFlat = g.int64Tensor('const.q_flat', [0, 0, NH * D]);
  const kvFlat = g.int64Tensor('const.kv_flat', [0, 0, KV * D]);
  const grouped = g.int64Tensor('const.grouped', [0, 0, KV, G, D]);
  const attentionShape = g.int64Tensor('const.attention_shape', [0, NH, -1, 0]);
  const merged = g.int64Tensor('const.merged', [0, 0, NH * D]);
  const groupAxis = g.int64Tensor('const.group_axis', [2]);
  const rotary = config.positions.kind === 'rotary' ? config.positions.layers : null;

  // The value projection is the graph output valueOutput(l) itself.
  const projections = (h: string, p: string, l: number): { q: string; k: string; v: string } => {
    if (config.layout === 'phi3') {
      const total = (NH + 2 * KV) * D;
      const part = (offset: number, size: number, outputName?: string) =>
        linear(h, `${p}.self_attn.qkv_proj`, H, size, { sourceOut: total, select: (o) => offset + o }, outputName);
      return { q: part(0, NH * D), k: part(NH * D, KV * D), v: part((NH + KV) * D, KV * D, valueOutput(l)) };
    }
    if (config.layout === 'gpt_neox') {
      // [heads, 3, D] rows: a head's query, key and value side by side.
      const part = (which: number, outputName?: string) =>
        linear(h, `${p}.attention.query_key_value`, H, H, { sourceOut: 3 * H, select: (o) => Math.floor(o / D) * 3 * D + which * D + (o % D) }, outputName);
      return { q: part(0), k: part(1), v: part(2, valueOutput(l)) };
    }
    const attn = `${p}.self_attn`;
    return {
      q: linear(h, `${attn}.q_proj`, H, NH * D),
      k: linear(h, `${attn}.k_proj`, H, KV * D),
      v: linear(h, `${attn}.v_proj`, H, KV * D, {}, valueOutput(l)),
    };
  };
  const outputProjection = (p: string) =>
    config.layout === 'gpt_neox' ? `${p}.attention.dense` : config.layout === 'opt' ? `${p}.self_attn.out_proj` : `${p}.self_attn.o_proj`;
  const gramShape = g.int64Tensor('const.gram_groups', [KV, G, D, D]);

  const mlp = (m: string, p: string): string => {
    if (config.layout === 'gpt_neox') return linear(activation(g, linear(m, `${p}.mlp.dense_h_to_4h`, H, I), config.act), `${p}.mlp.dense_4h_to_h`, I, H);
    if (config.layout === 'opt') return linear(activation(g, linear(m, `${p}.fc1`, H, I), config.act), `${p}.fc2`, I, H);
    let gate: string;
    let up: string;
    if (config.layout === 'phi3') {
      gate = linear(m, `${p}.mlp.gate_up_proj`, H, I, { sourceOut: 2 * I });
      up = linear(m, `${p}.mlp.gate_up_proj`, H, I, { sourceOut: 2 * I, select: (o) => I + o });
    } else {
      gate = linear(m, `${p}.mlp.gate_proj`, H, I);
      up = linear(m, `${p}.mlp.up_proj`, H, I);
    }
    return linear(g.node('Mul', [activation(g, gate, config.act), up]), `${p}.mlp.down_proj`, I, H);
  };

  for (let l = 0; l < L; l++) {
    const p = `layers.${l}`;
    const spec = config.attention[l];
    const inputNorm = config.layout === 'opt' ? `${p}.self_attn_layer_norm` : `${p}.input_layernorm`;
    const h = config.postNorm ? x : norm(x, inputNorm, H);
    const projected = projections(h, p, l);
    g.output(valueOutput(l), DataType.FLOAT, ['batch', 'sequence', KV * D]);
    let q = g.node('Reshape', [projected.q, qHeads]);
    let k = g.node('Reshape', [projected.k, kvHeadShape]);
    const v = g.node('Reshape', [projected.v, kvHeadShape]);
    if (config.qkNorm) {
      q = norm(q, `${p}.self_attn.q_norm`, D, config.qkNorm);
      k = norm(k, `${p}.self_attn.k_norm`, D, config.qkNorm);
    }
    if (rotary) {
      g.node('Reshape', [q, qFlat], undefined, [queryPreOutput(l)]);
      g.node('Reshape', [k, kvFlat], undefined, [keyPreOutput(l)]);
      q = rotate(q, rotary[l]);
      k = rotate(k, rotary[l]);
      g.output(queryPreOutput(l), DataType.FLOAT, ['batch', 'sequence', NH * D]);
      g.output(keyPreOutput(l), DataType.FLOAT, ['batch', 'sequence', KV * D]);
    }
    g.node('Reshape', [q, qFlat], undefined, [queryOutput(l)]);
    g.node('Reshape', [k, kvFlat], undefined, [keyOutput(l)]);
    g.output(queryOutput(l), DataType.FLOAT, ['batch', 'sequence', NH * D]);
    g.output(keyOutput(l), DataType.FLOAT, ['batch', 'sequence', KV * D]);

    // Query heads grouped by their key head: [b, KV, G, seq, D] against keys [b, KV, 1, D, seq].
    const qg = g.node('Transpose', [g.node('Reshape', [q, grouped])], { perm: [0, 2, 3, 1, 4] });
    const kt = g.node('Unsqueeze', [g.node('Transpose', [k], { perm: [0, 2, 3, 1] }), groupAxis]);
    let logits = g.node('Mul', [g.node('MatMul', [qg, kt]), g.scalar(g.fresh('const.scale'), spec.scale)]);
    if (spec.softcap) {
      const cap = spec.softcap;
      logits = g.node('Mul', [g.node('Tanh', [g.node('Mul', [logits, g.scalar(g.fresh('const.inv_cap'), 1 / cap)])]), g.scalar(g.fresh('const.cap'), cap)]);
    }
    const probs = g.node('Softmax', [g.node('Add', [logits, maskFor(spec.window)])], { axis: -1 });
    g.node('Reshape', [probs, attentionShape], undefined, [attentionOutput(l)]);
    g.output(attentionOutput(l), DataType.FLOAT, ['batch', NH, 'sequence', 'sequence']);
    const vg = g.node('Unsqueeze', [g.node('Transpose', [v], { perm: [0, 2, 1, 3] }), groupAxis]);
    // Value norms: values [b, KV, 1, seq, D] against each query head's Gram matrix [KV, G, D, D].
    const gram = g.node('Reshape', [w.headGram({ weight: t(`${outputProjection(p)}.weight`) }, NH, D, H), gramShape]);
    valueNorms(g, vg, gram, NH, valueNormOutput(l));
    const context = g.node('Reshape', [g.node('Transpose', [g.node('MatMul', [probs, vg])], { perm: [0, 3, 1, 2, 4] }), merged]);
    const attnOut = linear(context, outputProjection(p), NH * D, H);

    if (config.parallel) {
      x = g.node('Add', [g.node('Add', [x, attnOut]), mlp(norm(x, `${p}.post_attention_layernorm`, H), p)]);
    } else if (config.layout === 'opt') {
      if (config.postNorm) {
        x = norm(g.node('Add', [x, attnOut]), `${p}.self_attn_layer_norm`, H);
        x = norm(g.node('Add', [x, mlp(x, p)]), `${p}.final_layer_norm`, H);
      } else {
        x = g.node('Add', [x, attnOut]);
        x = g.node('Add', [x, mlp(norm(x, `${p}.final_layer_norm`, H), p)]);
      }
    } else if (config.sandwich) {
      x = g.node('Add', [x, norm(attnOut, `${p}.post_attention_layernorm`, H)]);
      x = g.node('Add', [x, norm(mlp(norm(x, `${p}.pre_feedforward_layernorm`, H), p), `${p}.post_feedforward_layernorm`, H)]);
    } else {
      x = g.node('Add', [x, attnOut]);
      x = g.node('Add', [x, mlp(norm(x, `${p}.post_attention_layernorm`, H), p)]);
    }
  }
  const finalNorm = config.layout === 'gpt_neox' ? 'final_layer_norm' : config.layout === 'opt' ? 'final_layer_norm' : 'norm';
  if (w.has(t(`${finalNorm}.weight`))) norm(x, finalNorm, H, config.norm, LAST_HIDDEN_STATE);
  else g.node('Identity', [x], undefined, [LAST_HIDDEN_STATE]);
  g.output(LAST_HIDDEN_STATE, DataType.FLOAT, ['batch', 'sequence', H]);
  return g;
}
