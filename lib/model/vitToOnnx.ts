// Converts a vision transformer (ViT, DeiT, DINOv2 with or without registers, CLIP's vision
// tower: vision.ts) into an ONNX encoder graph (opset 17) over images of one size: the
// patch embedding as a matrix product over the image cut into patches, the special tokens
// and the position table (fitted to the image's patch grid once, here, where the model
// interpolates it), then pre-LayerNorm blocks. Besides last_hidden_state it gives what the
// text graphs give: every layer's queries, keys, values, each head's value norms and the
// attention probabilities, token order [specials…, patches in reading order].
import { DataType, GraphBuilder } from '../onnx/graph';
import { ConversionError } from './errors';
import { activation, layerNorm, valueNorms } from './layers';
import { LAST_HIDDEN_STATE, PIXEL_VALUES, attentionOutput, keyOutput, queryOutput, valueNormOutput, valueOutput } from './outputs';
import type { TensorSource } from './tensors';
import type { VisionConfig } from './vision';
import { type WeightFormat, Weights } from './weights';
import { resizeAntialiased, resizeBicubic } from '../image/resample';

/** Tensor names per layout, relative to a block `encoder.layer(s).l`. */
const NAMES = {
  vit: {
    layer: 'encoder.layer',
    ln1: 'layernorm_before',
    ln2: 'layernorm_after',
    q: 'attention.attention.query',
    k: 'attention.attention.key',
    v: 'attention.attention.value',
    o: 'attention.output.dense',
    fc1: 'intermediate.dense',
    fc2: 'output.dense',
  },
  dinov2: {
    layer: 'encoder.layer',
    ln1: 'norm1',
    ln2: 'norm2',
    q: 'attention.attention.query',
    k: 'attention.attention.key',
    v: 'attention.attention.value',
    o: 'attention.output.dense',
    fc1: 'mlp.fc1',
    fc2: 'mlp.fc2',
  },
  clip: {
    layer: 'encoder.layers',
    ln1: 'layer_norm1',
    ln2: 'layer_norm2',
    q: 'self_attn.q_proj',
    k: 'self_attn.k_proj',
    v: 'self_attn.v_proj',
    o: 'self_attn.out_proj',
    fc1: 'mlp.fc1',
    fc2: 'mlp.fc2',
  },
};
const PREFIXES = { vit: ['', 'vit.', 'deit.'], dinov2: ['', 'dinov2.'], clip: ['vision_model.', ''] };
const PROBES = { vit: 'embeddings.cls_token', dinov2: 'embeddings.cls_token', clip: 'embeddings.class_embedding' };

/** The patch grid an image of `size` ([height, width]) makes. */
export function patchGrid(config: VisionConfig, size: [number, number]): [number, number] {
  const [h, w] = size.map((s) => Math.floor(s / config.patchSize));
  if (h < 1 || w < 1) throw new ConversionError(`images of ${size[0]}×${size[1]} are smaller than one ${config.patchSize}-pixel patch`);
  return [h, w];
}

/**
 * The graph of `config`'s encoder for images of `size` ([height, width], default the trained
 * image_size): a model that does not interpolate its positions takes only its trained grid.
 */
export function buildVisionGraph(
  config: VisionConfig,
  source: TensorSource,
  format: WeightFormat,
  size: [number, number] = [config.imageSize, config.imageSize],
): GraphBuilder {
  const names = NAMES[config.layout];
  const prefix = PREFIXES[config.layout].find((p) => source.has(p + PROBES[config.layout]));
  if (prefix === undefined) throw new ConversionError(`no "${PROBES[config.layout]}" tensor: this does not look like a ${config.modelType} checkpoint`);
  const t = (name: string) => prefix + name;
  const g = new GraphBuilder(`qkviz_${config.modelType}_encoder`);
  const w = new Weights(g, source, format);
  const { hidden: H, heads: NH, headDim: D, intermediate: I, layers: L, patchSize: P, channels: C } = config;
  const [gh, gw] = patchGrid(config, size);
  const trained = Math.floor(config.imageSize / P);
  if (config.interpolation === 'none' && (gh !== trained || gw !== trained))
    throw new ConversionError(
      `${config.modelType} was trained on ${config.imageSize}×${config.imageSize} images (a ${trained}×${trained} patch grid) and does not interpolate its positions; its preprocessor gives ${size[0]}×${size[1]}`,
    );
  const patches = gh * gw;

  const pixels = g.input(PIXEL_VALUES, DataType.FLOAT, ['batch', C, gh * P, gw * P]);
  const linear = (x: string, name: string, inDim: number, outDim: number, outputName?: string) =>
    w.linear(x, { weight: t(`${name}.weight`), inDim, outDim, bias: w.has(t(`${name}.bias`)) ? t(`${name}.bias`) : undefined }, outputName);
  const norm = (x: string, name: string) => layerNorm(w, x, t(name), H, config.eps);

  // Patches as rows [b, gh·gw, C·P·P] (channel, then row, then column within a patch: the
  // convolution kernel's order), through the kernel as a matrix.
  const cut = g.node('Reshape', [pixels, g.int64Tensor('const.cut', [0, C, gh, P, gw, P])]);
  const rows = g.node('Reshape', [g.node('Transpose', [cut], { perm: [0, 2, 4, 1, 3, 5] }), g.int64Tensor('const.rows', [0, patches, C * P * P])]);
  const kernel = config.layout === 'clip' ? 'embeddings.patch_embedding' : 'embeddings.patch_embeddings.projection';
  const embedded = w.linear(rows, {
    weight: t(`${kernel}.weight`),
    inDim: C * P * P,
    outDim: H,
    bias: config.patchBias ? t(`${kernel}.bias`) : undefined,
    storedShape: [H, C, P, P],
  });

  // The position table for this grid: [specials with positions + patches, H].
  const table = positionTable(config, source, t, [gh, gw]);
  const positioned = 1 + (config.specials.includes('distillation') ? 1 : 0);
  const positions = g.tensor('embeddings.positions', DataType.FLOAT, [positioned + patches, H], table);
  const batchOf = g.node('Slice', [g.node('Shape', [pixels]), g.int64Tensor('const.zero', [0]), g.int64Tensor('const.one', [1])]);
  // A [1, n, H] token row repeated over the batch.
  const perImage = (x: string, n: number) =>
    g.node('Expand', [x, g.node('Concat', [batchOf, g.int64Tensor(g.fresh('const.rows_hidden'), [n, H])], { axis: 0 })]);
  const slice = (x: string, from: number, to: number) =>
    g.node('Slice', [x, g.int64Tensor(g.fresh('const.from'), [from]), g.int64Tensor(g.fresh('const.to'), [to]), g.int64Tensor(g.fresh('const.axis0'), [0])]);
  const cls =
    config.layout === 'clip'
      ? g.node('Reshape', [w.matrix(t('embeddings.class_embedding'), [H]), g.int64Tensor('const.cls_shape', [1, 1, H])])
      : w.matrix(t('embeddings.cls_token'), [1, 1, H]);
  const parts = [perImage(g.node('Add', [cls, slice(positions, 0, 1)]), 1)];
  if (config.specials.includes('distillation'))
    parts.push(perImage(g.node('Add', [w.matrix(t('embeddings.distillation_token'), [1, 1, H]), slice(positions, 1, 2)]), 1));
  const registers = config.specials.filter((s) => s === 'register').length;
  if (registers) parts.push(perImage(w.matrix(t('embeddings.register_tokens'), [1, registers, H]), registers));
  parts.push(g.node('Add', [embedded, slice(positions, positioned, positioned + patches)]));
  let x = g.node('Concat', parts, { axis: 1 });
  if (config.preNorm) x = norm(x, 'pre_layrnorm');

  const splitHeads = g.int64Tensor('const.split_heads', [0, 0, NH, D]);
  const mergeHeads = g.int64Tensor('const.merge_heads', [0, 0, H]);
  const invSqrtD = g.scalar('const.inv_sqrt_d', 1 / Math.sqrt(D));
  const act = (h: string) =>
    config.act === 'quick_gelu'
      ? g.node('Mul', [h, g.node('Sigmoid', [g.node('Mul', [h, g.scalar(g.fresh('const.quick_gelu'), 1.702)])])])
      : activation(g, h, config.act);
  const scaled = (h: string, name: string) => (config.layerScale ? g.node('Mul', [h, w.vector(t(name), H)]) : h);

  for (let l = 0; l < L; l++) {
    const p = `${names.layer}.${l}`;
    const h = norm(x, `${p}.${names.ln1}`);
    const q = linear(h, `${p}.${names.q}`, H, H, queryOutput(l));
    const k = linear(h, `${p}.${names.k}`, H, H, keyOutput(l));
    const v = linear(h, `${p}.${names.v}`, H, H, valueOutput(l));
    for (const name of [queryOutput(l), keyOutput(l), valueOutput(l)]) g.output(name, DataType.FLOAT, ['batch', 'sequence', H]);
    const qh = g.node('Transpose', [g.node('Reshape', [q, splitHeads])], { perm: [0, 2, 1, 3] });
    const kt = g.node('Transpose', [g.node('Reshape', [k, splitHeads])], { perm: [0, 2, 3, 1] });
    const vh = g.node('Transpose', [g.node('Reshape', [v, splitHeads])], { perm: [0, 2, 1, 3] });
    g.node('Softmax', [g.node('Mul', [g.node('MatMul', [qh, kt]), invSqrtD])], { axis: -1 }, [attentionOutput(l)]);
    g.output(attentionOutput(l), DataType.FLOAT, ['batch', NH, 'sequence', 'sequence']);
    valueNorms(g, vh, w.headGram({ weight: t(`${p}.${names.o}.weight`) }, NH, D, H), NH, valueNormOutput(l));
    const context = g.node('Reshape', [g.node('Transpose', [g.node('MatMul', [attentionOutput(l), vh])], { perm: [0, 2, 1, 3] }), mergeHeads]);
    x = g.node('Add', [x, scaled(linear(context, `${p}.${names.o}`, H, H), `${p}.layer_scale1.lambda1`)]);
    const m = norm(x, `${p}.${names.ln2}`);
    let out: string;
    if (config.swiglu) {
      if (w.has(t(`${p}.mlp.weights_in.weight`))) {
        // The original layout: gate and up stacked in one matrix, down as weights_out.
        const half = (from: number) =>
          w.linear(m, {
            weight: t(`${p}.mlp.weights_in.weight`),
            bias: t(`${p}.mlp.weights_in.bias`),
            inDim: H,
            outDim: I,
            sourceOut: 2 * I,
            select: (o) => from + o,
          });
        out = linear(g.node('Mul', [activation(g, half(0), 'silu'), half(I)]), `${p}.mlp.weights_out`, I, H);
      } else {
        out = linear(
          g.node('Mul', [activation(g, linear(m, `${p}.mlp.gate_proj`, H, I), 'silu'), linear(m, `${p}.mlp.up_proj`, H, I)]),
          `${p}.mlp.down_proj`,
          I,
          H,
        );
      }
    } else {
      out = linear(act(linear(m, `${p}.${names.fc1}`, H, I)), `${p}.${names.fc2}`, I, H);
    }
    x = g.node('Add', [x, scaled(out, `${p}.layer_scale2.lambda1`)]);
  }
  // CLIP's last_hidden_state is the last block's output (its post_layernorm is the pooled output's).
  if (config.layout === 'clip') g.node('Identity', [x], undefined, [LAST_HIDDEN_STATE]);
  else layerNorm(w, x, t('layernorm'), H, config.eps, LAST_HIDDEN_STATE);
  g.output(LAST_HIDDEN_STATE, DataType.FLOAT, ['batch', 'sequence', H]);
  return g;
}

/**
 * The position table for a [gh, gw] grid as float32 bytes: the specials' rows as trained, the
 * patches' rows interpolated from the trained grid where the model does that (bicubic in
 * float32 as transformers does, antialiased for DINOv2 with registers), else as trained.
 */
function positionTable(config: VisionConfig, source: TensorSource, t: (n: string) => string, [gh, gw]: [number, number]): () => Promise<Uint8Array> {
  const name = config.layout === 'clip' ? t('embeddings.position_embedding.weight') : t('embeddings.position_embeddings');
  const H = config.hidden;
  const positioned = 1 + (config.specials.includes('distillation') ? 1 : 0);
  const trained = Math.floor(config.imageSize / config.patchSize);
  const shape = source.shape(name);
  const rowsStored = shape ? shape.reduce((a, b) => a * b, 1) / H : 0;
  if (rowsStored !== positioned + trained * trained)
    throw new ConversionError(`tensor "${name}" has shape [${shape}], config.json implies ${positioned + trained * trained} positions of ${H}`);
  return async () => {
    const stored = await source.float32(name);
    const out = new Float32Array((positioned + gh * gw) * H);
    out.set(stored.subarray(0, positioned * H));
    if (gh === trained && gw === trained) {
      out.set(stored.subarray(positioned * H), positioned * H);
    } else {
      // [trained, trained, H] → [H][trained][trained], resized in float32 values, and back.
      const grid = new Float64Array(H * trained * trained);
      for (let r = 0; r < trained * trained; r++) for (let c = 0; c < H; c++) grid[c * trained * trained + r] = stored[(positioned + r) * H + c];
      const resized =
        config.interpolation === 'bicubic-antialiased'
          ? resizeAntialiased(grid, H, trained, trained, gh, gw, 'bicubic')
          : resizeBicubic(grid, H, trained, trained, gh, gw);
      for (let r = 0; r < gh * gw; r++) for (let c = 0; c < H; c++) out[(positioned + r) * H + c] = resized[c * gh * gw + r];
    }
    return new Uint8Array(out.buffer);
  };
}
