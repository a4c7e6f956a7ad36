// Node-only: opens a converted model folder (as written by the setup step) with
// onnxruntime-node and its tokenizer, for the CLI, tests and benchmarks.
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import * as ort from 'onnxruntime-node';
import type { PreTrainedTokenizer } from '@huggingface/transformers';
import { MANIFEST_FILE, type ModelManifest } from '../model/manifest';
import { tokenizerOfFiles } from '../model/tokenizer';
import { type ModelGraph, type ModelRunner, type OrtModule, openModel } from '../engine/runtime';
import { folderGraph } from './convert';

export interface NodeModel {
  manifest: ModelManifest;
  /** A text model's tokenizer (a vision model's reads images: its manifest.image says how). */
  tokenizer: PreTrainedTokenizer;
  runner: ModelRunner;
  /** The graph's protobuf (its external data, if any, is onnxruntime's alone once the session is open). */
  graph: Pick<ModelGraph, 'bytes'>;
}

export async function openNodeModel(modelDir: string): Promise<NodeModel> {
  const dir = resolve(modelDir);
  let manifest: ModelManifest;
  try {
    manifest = JSON.parse(readFileSync(join(dir, MANIFEST_FILE), 'utf8')) as ModelManifest;
  } catch (e) {
    throw new Error(`${join(dir, MANIFEST_FILE)} is missing or unreadable (${(e as Error).message}): run \`npm run setup\``);
  }
  const graph = folderGraph(dir, manifest);
  // The files as the page reads a hub model's: tokenizer.json and tokenizer_config.json.
  const read = (file: string) => (existsSync(join(dir, file)) ? readFileSync(join(dir, file), 'utf8') : undefined);
  const runner = await openModel(ort as unknown as OrtModule, graph, ['cpu']);
  if (manifest.image) {
    // A vision model reads images (lib/corpus/images.ts): asking it for a tokenizer is a mistake, said in words.
    return {
      manifest,
      runner,
      graph: { bytes: graph.bytes },
      get tokenizer(): PreTrainedTokenizer {
        throw new Error(`${manifest.name} reads images: it has no tokenizer`);
      },
    };
  }
  const tokenizer = await tokenizerOfFiles({ tokenizer: read('tokenizer.json') ?? '{}', tokenizerConfig: read('tokenizer_config.json') });
  return { manifest, tokenizer, runner, graph: { bytes: graph.bytes } };
}
