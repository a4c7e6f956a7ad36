// The decoder families QKViz converts besides GPT-2, read from config.json into one shape
// the graph builder (decoderToOnnx.ts) follows: Llama and SmolLM, Qwen2 (q/k/v biases) and
// Qwen3 (per-head q/k RMSNorm), Mistral (sliding window), Gemma (RMSNorm of 1 + w, scaled
// embeddings, GeGLU), Gemma 2 (logit soft-capping, alternating sliding-window layers, norms
// around each block), Gemma 3 (q/k norms, local and global rotary bases), Phi-3 (fused
// q/k/v and gate/up), GPT-NeoX/Pythia (partial rotary, parallel residual, LayerNorm) and OPT
// (learned positions, ReLU). Where a model computes something this shape cannot, the error
// names it.
import type { AttentionSpec } from '../data/attention';
import { configNumbers } from './config';
import { ConversionError } from './errors';

export const DECODER_FAMILY = new Set(['llama', 'qwen2', 'qwen3', 'mistral', 'gemma', 'gemma2', 'gemma3', 'gemma3_text', 'phi3', 'gpt_neox', 'opt']);

export interface RopeScaling {
  type: 'default' | 'llama3' | 'linear';
  factor?: number;
  lowFreqFactor?: number;
  highFreqFactor?: number;
  originalMaxPositions?: number;
}

/** One rotary embedding: its base, scaling and how many of a head's dimensions it turns. */
export interface Rotary {
  theta: number;
  scaling: RopeScaling;
  /** Leading dimensions of each head that are rotated (all of them unless partial). */
  dims: number;
}

export type NormKind = 'rms' | 'rms1p' | 'layer';
export type Activation = 'silu' | 'gelu' | 'gelu_tanh' | 'relu';

export interface DecoderConfig {
  modelType: string;
  layers: number;
  heads: number;
  kvHeads: number;
  hidden: number;
  headDim: number;
  intermediate: number;
  vocabSize: number;
  maxPositions: number;
  eps: number;
  /** rms: x/√(mean x² + ε)·w; rms1p: Gemma's ·(1 + w); layer: LayerNorm with bias. */
  norm: NormKind;
  act: Activation;
  /** gated: down(act(gate(x)) · up(x)); plain: fc2(act(fc1(x))). */
  mlp: 'gated' | 'plain';
  /** GPT-NeoX: x + attention(ln₁(x)) + mlp(ln₂(x)). */
  parallel: boolean;
  /** OPT-350m: LayerNorm after each residual sum instead of before each block. */
  postNorm: boolean;
  /** Gemma 2/3: a norm on each block's output before the residual sum, and before the MLP. */
  sandwich: boolean;
  /** Per-head norm of queries and keys before the rotation (Qwen3, Gemma 3). */
  qkNorm: NormKind | null;
  /** Multiplies the token embeddings (Gemma: √hidden). */
  embedScale: number;
  /** Rotary embedding of each layer, or learned positions (OPT: table rows from `offset`). */
  positions: { kind: 'rotary'; layers: Rotary[] } | { kind: 'learned'; offset: number; rows: number };
  attention: AttentionSpec[];
  /** How the checkpoint names and lays out its tensors. */
  layout: 'llama' | 'phi3' | 'gpt_neox' | 'opt';
  /** OPT's word_embed_proj_dim (project_in/out around the layers) when it differs from hidden. */
  embedDim: number;
}

const ACTIVATIONS: Record<string, Activation> = {
  silu: 'silu',
  swish: 'silu',
  gelu: 'gelu',
  gelu_new: 'gelu_tanh',
  gelu_pytorch_tanh: 'gelu_tanh',
  gelu_fast: 'gelu_tanh',
  relu: 'relu',
};

function activationOf(name: unknown, modelType: string): Activation {
  const act = ACTIVATIONS[String(name)];
  if (!act) throw new ConversionError(`${modelType}: activation "${String(name)}" is not supported (${Object.keys(ACTIVATIONS).join(', ')})`);
  return act;
}

/** A rotary embedding from config keys old (rope_theta, rope_scaling) and new (rope_parameters). */
function rotaryOf(params: Record<string, unknown>, theta: number, headDim: number, partial: number, maxPositions: number, modelType: string): Rotary {
  const type = String(params.rope_type ?? params.type ?? 'default');
  let scaling: RopeScaling;
  if (type === 'default') scaling = { type };
  else if (type === 'linear') scaling = { type, factor: Number(params.factor) };
  else if (type === 'llama3') {
    scaling = {
      type,
      factor: Number(params.factor),
      lowFreqFactor: Number(params.low_freq_factor),
      highFreqFactor: Number(params.high_freq_factor),
      originalMaxPositions: Number(params.original_max_position_embeddings ?? maxPositions),
    };
  } else throw new ConversionError(`${modelType}: rope scaling "${type}" is not supported (default, linear, llama3)`);
  const dims = Math.floor(headDim * partial);
  if (dims % 2 !== 0) throw new ConversionError(`${modelType}: ${dims} rotated dimensions per head is odd`);
  return { theta: typeof params.rope_theta === 'number' ? params.rope_theta : theta, scaling, dims };
}

/** Whether layer l is a sliding-window layer, from layer_types or the family's pattern. */
function slidingLayers(json: Record<string, unknown>, layers: number, pattern: (l: number) => boolean): boolean[] {
  if (Array.isArray(json.layer_types)) return json.layer_types.map((t) => t === 'sliding_attention');
  return Array.from({ length: layers }, (_, l) => pattern(l));
}

export function parseDecoderConfig(source: Record<string, unknown>): DecoderConfig {
  const outer = String(source.model_type ?? '');
  // Gemma 3's multimodal checkpoints keep the language model's settings under text_config.
  const json =
    outer === 'gemma3' && source.text_config && typeof source.text_config === 'object' ? { ...(source.text_config as Record<string, unknown>) } : source;
  const modelType = outer === 'gemma3' ? 'gemma3' : outer;
  if (!DECODER_FAMILY.has(modelType)) throw new ConversionError(`model_type "${modelType}" is not a decoder QKViz converts`);
  const num = configNumbers(json, ConversionError);
  const gemma = modelType.startsWith('gemma');
  const family = modelType === 'gemma3_text' ? 'gemma3' : modelType;

  if (family === 'opt') {
    const hidden = num('hidden_size');
    const heads = num('num_attention_heads');
    if (hidden % heads !== 0) throw new ConversionError(`hidden_size ${hidden} is not divisible by ${heads} heads`);
    const headDim = hidden / heads;
    const layers = num('num_hidden_layers');
    const maxPositions = num('max_position_embeddings');
    return {
      modelType,
      layers,
      heads,
      kvHeads: heads,
      hidden,
      headDim,
      intermediate: num('ffn_dim'),
      vocabSize: num('vocab_size'),
      maxPositions,
      eps: 1e-5,
      norm: 'layer',
      act: activationOf(json.activation_function ?? 'relu', modelType),
      mlp: 'plain',
      parallel: false,
      postNorm: json.do_layer_norm_before === false,
      sandwich: false,
      qkNorm: null,
      embedScale: 1,
      positions: { kind: 'learned', offset: 2, rows: maxPositions + 2 },
      attention: Array.from({ length: layers }, () => ({ scale: 1 / Math.sqrt(headDim) })),
      layout: 'opt',
      embedDim: num('word_embed_proj_dim', hidden),
    };
  }

  const hidden = num('hidden_size');
  const heads = num('num_attention_heads');
  const kvHeads = num('num_key_value_heads', heads);
  if (heads % kvHeads !== 0) throw new ConversionError(`${heads} query heads do not split into ${kvHeads} key/value groups`);
  const headDim = num('head_dim', hidden / heads);
  const layers = num('num_hidden_layers');
  const maxPositions = num('max_position_embeddings');
  const params = (json.rope_parameters ?? json.rope_scaling ?? {}) as Record<string, unknown>;
  const partial =
    typeof params.partial_rotary_factor === 'number'
      ? params.partial_rotary_factor
      : typeof json.partial_rotary_factor === 'number'
        ? json.partial_rotary_factor
        : typeof json.rotary_pct === 'number'
          ? json.rotary_pct
          : family === 'gpt_neox'
            ? 0.25
            : 1;
  const baseTheta = typeof json.rope_theta === 'number' ? json.rope_theta : typeof json.rotary_emb_base === 'number' ? json.rotary_emb_base : 10000;

  let sliding: boolean[] = Array.from({ length: layers }, () => false);
  const window = typeof json.sliding_window === 'number' ? json.sliding_window : null;
  if (window !== null) {
    if (family === 'mistral' || family === 'phi3') sliding = sliding.map(() => true);
    else if (family === 'gemma2') sliding = slidingLayers(json, layers, (l) => l % 2 === 0);
    else if (family === 'gemma3') {
      const pattern = typeof json.sliding_window_pattern === 'number' ? json.sliding_window_pattern : 6;
      sliding = slidingLayers(json, layers, (l) => (l + 1) % pattern !== 0);
    } else if (family === 'qwen2' || family === 'qwen3') {
      if (json.use_sliding_window === true) throw new ConversionError(`${modelType}: use_sliding_window is not supported`);
    }
  }

  // Gemma 3 turns sliding layers by a local base and full ones by the global base (with its scaling).
  let rotary: Rotary[];
  if (family === 'gemma3') {
    const nested = json.rope_parameters as Record<string, Record<string, unknown>> | undefined;
    const full = nested?.full_attention ?? { ...((json.rope_scaling as Record<string, unknown>) ?? {}), rope_theta: json.rope_theta ?? 1e6 };
    const local = nested?.sliding_attention ?? { rope_type: 'default', rope_theta: json.rope_local_base_freq ?? 1e4 };
    const global = rotaryOf(full, 1e6, headDim, 1, maxPositions, modelType);
    const localRotary = rotaryOf(local, 1e4, headDim, 1, maxPositions, modelType);
    rotary = sliding.map((s) => (s ? localRotary : global));
  } else {
    const r = rotaryOf(params, baseTheta, headDim, partial, maxPositions, modelType);
    rotary = Array.from({ length: layers }, () => r);
  }

  const scale = family === 'gemma2' || family === 'gemma3' ? num('query_pre_attn_scalar', headDim) ** -0.5 : 1 / Math.sqrt(headDim);
  const softcap = family === 'gemma2' && typeof json.attn_logit_softcapping === 'number' ? json.attn_logit_softcapping : undefined;
  if (family === 'gemma3' && typeof json.attn_logit_softcapping === 'number') throw new ConversionError('gemma3: attn_logit_softcapping is not supported');
  const attention: AttentionSpec[] = sliding.map((s) => ({ scale, ...(softcap ? { softcap } : {}), ...(s && window !== null ? { window } : {}) }));

  if (family === 'gpt_neox') {
    return {
      modelType,
      layers,
      heads,
      kvHeads: heads,
      hidden,
      headDim: hidden / heads,
      intermediate: num('intermediate_size'),
      vocabSize: num('vocab_size'),
      maxPositions,
      eps: num('layer_norm_eps', 1e-5),
      norm: 'layer',
      act: activationOf(json.hidden_act ?? 'gelu', modelType),
      mlp: 'plain',
      parallel: json.use_parallel_residual !== false,
      postNorm: false,
      sandwich: false,
      qkNorm: null,
      embedScale: 1,
      positions: { kind: 'rotary', layers: rotary },
      attention,
      layout: 'gpt_neox',
      embedDim: hidden,
    };
  }

  const act = activationOf(gemma ? (json.hidden_activation ?? json.hidden_act ?? 'gelu_pytorch_tanh') : (json.hidden_act ?? 'silu'), modelType);
  return {
    modelType,
    layers,
    heads,
    kvHeads,
    hidden,
    headDim,
    intermediate: num('intermediate_size'),
    vocabSize: num('vocab_size'),
    maxPositions,
    eps: num('rms_norm_eps', 1e-6),
    // Gemma's legacy "gelu" means the tanh approximation, as transformers reads it.
    norm: gemma ? 'rms1p' : 'rms',
    act: gemma && act === 'gelu' ? 'gelu_tanh' : act,
    mlp: 'gated',
    parallel: false,
    postNorm: false,
    sandwich: family === 'gemma2' || family === 'gemma3',
    qkNorm: family === 'qwen3' ? 'rms' : family === 'gemma3' ? 'rms1p' : null,
    embedScale: gemma ? Math.sqrt(hidden) : 1,
    positions: { kind: 'rotary', layers: rotary },
    attention,
    layout: family === 'phi3' ? 'phi3' : 'llama',
    embedDim: hidden,
  };
}

/** transformers' inverse frequencies of a rotary embedding, float32 as it computes them. */
export function ropeInverseFrequencies(rotary: Rotary, maxPositions: number): Float32Array {
  const D = rotary.dims;
  const inv = Float32Array.from({ length: D / 2 }, (_, i) => 1 / rotary.theta ** ((2 * i) / D));
  const s = rotary.scaling;
  if (s.type === 'linear') return inv.map((f) => f / (s.factor ?? 1));
  if (s.type !== 'llama3') return inv;
  const { factor = 1, lowFreqFactor = 1, highFreqFactor = 1, originalMaxPositions = maxPositions } = s;
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
