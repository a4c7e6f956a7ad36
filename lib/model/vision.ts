// The vision transformers QKViz converts, read from config.json into one shape the graph
// builder (vitToOnnx.ts) follows: ViT and DeiT (pre-LayerNorm blocks, a [CLS] token — and
// DeiT's distillation token — with learned positions), DINOv2 (layer scale, SwiGLU where
// configured, register tokens in DINOv2-with-registers, positions interpolated from the
// trained grid) and CLIP's vision tower (class embedding, LayerNorm before the encoder,
// quick-GELU). An image is a sequence of patches: its "tokens" are the special tokens, then
// one per patch in reading order.
import type { SpecialTokenKind } from '../data/layout';
import { configNumbers } from './config';
import { ConversionError } from './errors';

export const VISION_FAMILY = new Set(['vit', 'deit', 'dinov2', 'dinov2_with_registers', 'clip', 'clip_vision_model']);

export type VisionActivation = 'gelu' | 'gelu_tanh' | 'quick_gelu' | 'relu' | 'silu';

export interface VisionConfig {
  modelType: string;
  /** How the checkpoint names its tensors. */
  layout: 'vit' | 'dinov2' | 'clip';
  layers: number;
  heads: number;
  hidden: number;
  headDim: number;
  intermediate: number;
  /** The image side the position table was trained for, and the patch side. */
  imageSize: number;
  patchSize: number;
  channels: number;
  eps: number;
  act: VisionActivation;
  /** The tokens before the patches, in order. */
  specials: SpecialTokenKind[];
  /** DINOv2: each block's output scaled per channel (layer_scale*.lambda1). */
  layerScale: boolean;
  /** DINOv2 giant: a SwiGLU MLP (gate/up/down). */
  swiglu: boolean;
  /** CLIP: LayerNorm on the embeddings before the first block. */
  preNorm: boolean;
  /** How positions are fitted to another grid: DINOv2 always interpolates (bicubic; antialiased with registers), the others need the trained size. */
  interpolation: 'none' | 'bicubic' | 'bicubic-antialiased';
  /** The patch embedding's bias (CLIP has none). */
  patchBias: boolean;
}

const ACTIVATIONS: Record<string, VisionActivation> = {
  gelu: 'gelu',
  gelu_new: 'gelu_tanh',
  gelu_pytorch_tanh: 'gelu_tanh',
  quick_gelu: 'quick_gelu',
  relu: 'relu',
  silu: 'silu',
  swish: 'silu',
};

/** A CLIP checkpoint's config keeps the vision tower's settings in vision_config. */
export function visionConfigJson(json: Record<string, unknown>): Record<string, unknown> {
  if (json.model_type === 'clip') {
    const vision = json.vision_config;
    if (!vision || typeof vision !== 'object') throw new ConversionError('a CLIP config.json without vision_config');
    return { ...(vision as Record<string, unknown>), model_type: 'clip_vision_model' };
  }
  return json;
}

export function parseVisionConfig(source: Record<string, unknown>): VisionConfig {
  const json = visionConfigJson(source);
  const num = configNumbers(json, ConversionError);
  const modelType = String(json.model_type ?? '');
  const clip = modelType === 'clip_vision_model';
  const dinov2 = modelType === 'dinov2' || modelType === 'dinov2_with_registers';
  const hidden = num('hidden_size');
  const heads = num('num_attention_heads');
  if (hidden % heads !== 0) throw new ConversionError(`hidden_size ${hidden} is not divisible by ${heads} heads`);
  const act = ACTIVATIONS[String(json.hidden_act ?? 'gelu')];
  if (!act) throw new ConversionError(`hidden_act "${String(json.hidden_act)}" is not supported`);
  const swiglu = dinov2 && json.use_swiglu_ffn === true;
  const mlp = dinov2 ? Math.trunc(hidden * num('mlp_ratio', 4)) : num('intermediate_size');
  const registers = modelType === 'dinov2_with_registers' ? num('num_register_tokens', 0) : 0;
  const specials: SpecialTokenKind[] = [
    'cls',
    ...(modelType === 'deit' ? (['distillation'] as const) : []),
    ...new Array<SpecialTokenKind>(registers).fill('register'),
  ];
  return {
    modelType,
    layout: clip ? 'clip' : dinov2 ? 'dinov2' : 'vit',
    layers: num('num_hidden_layers'),
    heads,
    hidden,
    headDim: hidden / heads,
    // SwiGLU keeps two thirds of the MLP width, rounded up to a multiple of 8 (as transformers does).
    intermediate: swiglu ? Math.trunc((Math.trunc((mlp * 2) / 3) + 7) / 8) * 8 : mlp,
    imageSize: num('image_size'),
    patchSize: num('patch_size'),
    channels: num('num_channels', 3),
    eps: num('layer_norm_eps', clip ? 1e-5 : 1e-12),
    act,
    specials,
    layerScale: dinov2,
    swiglu,
    preNorm: clip,
    interpolation: modelType === 'dinov2_with_registers' ? 'bicubic-antialiased' : dinov2 ? 'bicubic' : 'none',
    patchBias: !clip,
  };
}
