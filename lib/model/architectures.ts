// The architectures QKViz converts, read from a Hugging Face config.json: which converter
// takes a checkpoint, and the facts the engine and the page need before any weight is read
// (layers, query and key heads, causal, rotary, how many parameters to expect).
import { type AttentionSpec, plainAttention } from '../data/attention';
import type { GraphBuilder, ModelMeta } from '../onnx/graph';
import { buildBertGraph } from './bertToOnnx';
import { BERT_FAMILY, ModelConfigError, parseBertConfig } from './config';
import { buildDecoderGraph } from './decoderToOnnx';
import { DECODER_FAMILY, parseDecoderConfig } from './decoders';
import { ConversionError } from './errors';
import { buildGpt2Graph, parseGpt2Config } from './gpt2ToOnnx';
import type { TensorSource } from './tensors';
import type { WeightFormat } from './weights';
import type { ImageSpec } from '../data/layout';
import { VISION_FAMILY, parseVisionConfig } from './vision';
import { buildVisionGraph, patchGrid } from './vitToOnnx';

export type Family = 'bert' | 'gpt2' | 'decoder' | 'vision';

/** Every config.json model_type QKViz converts. */
export const SUPPORTED_MODEL_TYPES = [...BERT_FAMILY, 'gpt2', ...DECODER_FAMILY, ...VISION_FAMILY];

export type { ImageSpec };
/**
 * Decoders read at most this many tokens a sentence (their position tables allow thousands,
 * but one sentence's attention grows with n² in every head); longer sentences are split.
 */
export const DECODER_MAX_TOKENS = 1024;

export interface ModelSpec {
  family: Family;
  modelType: string;
  /** config.json's architectures[0], else its model_type. */
  architecture: string;
  layers: number;
  /** Query heads: the matrix's columns. */
  heads: number;
  /** Key/value heads (fewer with grouped-query attention: query head h reads ⌊h / (heads / kvHeads)⌋). */
  kvHeads: number;
  headDim: number;
  hidden: number;
  vocabSize: number;
  maxTokens: number;
  causal: boolean;
  rotary: boolean;
  /** How each layer computes attention, where it is not plain softmax(q·k/√d) (Gemma, sliding windows). */
  attention?: AttentionSpec[];
  /** A vision model: what its images are (its "sentences" are images, its tokens patches). */
  image?: ImageSpec;
}

export class UnsupportedArchitectureError extends Error {}

/**
 * The spec of a config.json; names the model_type and lists the supported ones when it is not.
 * A vision model's images are `imageSize` ([height, width], from its preprocessor) or its trained size.
 */
export function modelSpec(json: Record<string, unknown>, imageSize?: [number, number]): ModelSpec {
  const modelType = String(json.model_type ?? '');
  const architecture = Array.isArray(json.architectures) && typeof json.architectures[0] === 'string' ? json.architectures[0] : modelType;
  if (!SUPPORTED_MODEL_TYPES.includes(modelType)) {
    throw new UnsupportedArchitectureError(
      `${modelType ? `model_type "${modelType}"${architecture !== modelType ? ` (${architecture})` : ''}` : 'a config.json without model_type'} is not supported. QKViz converts: ${SUPPORTED_MODEL_TYPES.join(', ')}.`,
    );
  }
  const wrap = <T>(parse: () => T): T => {
    try {
      return parse();
    } catch (e) {
      if (e instanceof ConversionError || e instanceof ModelConfigError) throw new UnsupportedArchitectureError(`${architecture}: ${e.message}`);
      throw e;
    }
  };
  if (BERT_FAMILY.has(modelType)) {
    const c = wrap(() => parseBertConfig(json));
    return {
      family: 'bert',
      modelType,
      architecture,
      layers: c.layers,
      heads: c.heads,
      kvHeads: c.heads,
      headDim: c.headDim,
      hidden: c.hidden,
      vocabSize: c.vocabSize,
      maxTokens: c.maxTokens,
      causal: false,
      rotary: false,
    };
  }
  if (VISION_FAMILY.has(modelType)) {
    const c = wrap(() => parseVisionConfig(json));
    const size = imageSize ?? [c.imageSize, c.imageSize];
    const grid = wrap(() => patchGrid(c, size));
    return {
      family: 'vision',
      modelType: c.modelType,
      architecture,
      layers: c.layers,
      heads: c.heads,
      kvHeads: c.heads,
      headDim: c.headDim,
      hidden: c.hidden,
      vocabSize: 0,
      maxTokens: c.specials.length + grid[0] * grid[1],
      causal: false,
      rotary: false,
      image: { size: [grid[0] * c.patchSize, grid[1] * c.patchSize], patch: c.patchSize, grid, specials: c.specials },
    };
  }
  if (modelType === 'gpt2') {
    const c = wrap(() => parseGpt2Config(json));
    return {
      family: 'gpt2',
      modelType,
      architecture,
      layers: c.layers,
      heads: c.heads,
      kvHeads: c.heads,
      headDim: c.headDim,
      hidden: c.hidden,
      vocabSize: c.vocabSize,
      maxTokens: Math.min(c.maxPositions, DECODER_MAX_TOKENS),
      causal: true,
      rotary: false,
    };
  }
  const c = wrap(() => parseDecoderConfig(json));
  const plain = plainAttention(c.layers, c.headDim);
  const special = c.attention.some((a, l) => a.scale !== plain[l].scale || a.softcap || a.window);
  return {
    family: 'decoder',
    modelType,
    architecture,
    layers: c.layers,
    heads: c.heads,
    kvHeads: c.kvHeads,
    headDim: c.headDim,
    hidden: c.hidden,
    vocabSize: c.vocabSize,
    maxTokens: Math.min(c.maxPositions, DECODER_MAX_TOKENS),
    causal: true,
    rotary: c.positions.kind === 'rotary',
    ...(special ? { attention: c.attention } : {}),
  };
}

export interface ConvertOptions {
  /** Goes into the ONNX metadata so a file says where it came from. */
  sourceName?: string;
  /** The weights' precision in the graph; float32 when absent. */
  format?: WeightFormat;
  /** A vision model's input size [height, width] (its preprocessor's output); its trained size when absent. */
  imageSize?: [number, number];
}

/** config.json + the checkpoint's tensors → the graph QKViz runs (its weights read when it is written) and its metadata. */
export function buildModelGraph(
  json: Record<string, unknown>,
  source: TensorSource,
  options: ConvertOptions = {},
): { spec: ModelSpec; graph: GraphBuilder; meta: ModelMeta } {
  const spec = modelSpec(json, options.imageSize);
  const format = options.format ?? 'float32';
  const build = (): GraphBuilder => {
    switch (spec.family) {
      case 'bert':
        return buildBertGraph(parseBertConfig(json), source, format);
      case 'gpt2':
        return buildGpt2Graph(parseGpt2Config(json), source, format);
      case 'decoder':
        return buildDecoderGraph(parseDecoderConfig(json), source, format);
      case 'vision':
        return buildVisionGraph(parseVisionConfig(json), source, format, spec.image!.size);
    }
  };
  const graph = build();
  const kind = spec.causal ? 'decoder' : 'encoder';
  const meta: ModelMeta = {
    producer: 'qkviz',
    docString: `${spec.modelType} ${kind} with per-layer queries and keys${spec.rotary ? ' (before and after the rotary embedding)' : ''} and attention probabilities as outputs`,
    metadata: {
      source: options.sourceName ?? 'unknown',
      layers: String(spec.layers),
      heads: String(spec.heads),
      kv_heads: String(spec.kvHeads),
      head_dim: String(spec.headDim),
      causal: String(spec.causal),
      rotary: String(spec.rotary),
      weights: format,
    },
  };
  return { spec, graph, meta };
}
