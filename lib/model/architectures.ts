// The architectures QKViz converts, read from a Hugging Face config.json: which converter
// takes a checkpoint, and the facts the engine and the page need before any weight is read
// (layers, query and key heads, causal, rotary, how many parameters to expect).
import { ConversionError, convertBertToOnnx } from './bertToOnnx';
import { BERT_FAMILY, ModelConfigError, parseBertConfig } from './config';
import { convertGpt2ToOnnx, parseGpt2Config } from './gpt2ToOnnx';
import { LLAMA_FAMILY, convertLlamaToOnnx, parseLlamaConfig } from './llamaToOnnx';
import type { SafeTensor } from './safetensors';

export type Family = 'bert' | 'gpt2' | 'llama';

/** Every config.json model_type QKViz converts. */
export const SUPPORTED_MODEL_TYPES = [...BERT_FAMILY, 'gpt2', ...LLAMA_FAMILY];

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
}

export class UnsupportedArchitectureError extends Error {}

/** The spec of a config.json; names the model_type and lists the supported ones when it is not. */
export function modelSpec(json: Record<string, unknown>): ModelSpec {
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
  const c = wrap(() => parseLlamaConfig(json));
  return {
    family: 'llama',
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
    rotary: true,
  };
}

/** config.json + the checkpoint's tensors (every shard's) → the ONNX graph QKViz runs. */
export function convertModel(json: Record<string, unknown>, tensors: Map<string, SafeTensor>, sourceName: string): { spec: ModelSpec; onnx: Uint8Array } {
  const spec = modelSpec(json);
  const options = { sourceName };
  switch (spec.family) {
    case 'bert':
      return { spec, onnx: convertBertToOnnx(parseBertConfig(json), tensors, options) };
    case 'gpt2':
      return { spec, onnx: convertGpt2ToOnnx(parseGpt2Config(json), tensors, options) };
    case 'llama':
      return { spec, onnx: convertLlamaToOnnx(parseLlamaConfig(json), tensors, options) };
  }
}
