// Locations of the converted default model and its cached source checkpoint, and a
// small onnxruntime-node harness that runs a padded batch through a QKViz graph.
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import * as ort from 'onnxruntime-node';
import { ATTENTION_MASK, INPUT_IDS, TOKEN_TYPE_IDS } from '../../lib/model/outputs';

export const ROOT = resolve(import.meta.dirname, '..', '..');
export const DEFAULT_MODEL = 'all-MiniLM-L6-v2';
export const MODELS_DIR = join(ROOT, 'public', 'models');
export const DEFAULT_MODEL_DIR = join(MODELS_DIR, DEFAULT_MODEL);
export const DEFAULT_SOURCE_DIR = join(ROOT, '.cache', 'models', DEFAULT_MODEL);

/** Fails (never skips) when the setup step has not run: these tests are about the real model. */
export function requireFile(path: string): string {
  if (!existsSync(path)) throw new Error(`${path} is missing: run \`npm run setup\` first`);
  return path;
}

export async function openSession(onnx: string | Uint8Array): Promise<ort.InferenceSession> {
  // create() has one overload for a path and one for bytes; a union picks neither.
  return typeof onnx === 'string' ? ort.InferenceSession.create(onnx) : ort.InferenceSession.create(onnx);
}

export interface BatchResult {
  outputs: ort.InferenceSession.OnnxValueMapType;
  seq: number;
  lengths: number[];
}

/** Runs sentences (token ids) as one right-padded batch. */
export async function runBatch(session: ort.InferenceSession, batch: number[][], padId = 0): Promise<BatchResult> {
  const seq = Math.max(...batch.map((s) => s.length));
  const ids = new BigInt64Array(batch.length * seq);
  const mask = new BigInt64Array(batch.length * seq);
  batch.forEach((s, b) => {
    for (let t = 0; t < seq; t++) {
      ids[b * seq + t] = BigInt(t < s.length ? s[t] : padId);
      mask[b * seq + t] = t < s.length ? 1n : 0n;
    }
  });
  const dims = [batch.length, seq];
  const feeds: Record<string, ort.Tensor> = {
    [INPUT_IDS]: new ort.Tensor('int64', ids, dims),
    [ATTENTION_MASK]: new ort.Tensor('int64', mask, dims),
    [TOKEN_TYPE_IDS]: new ort.Tensor('int64', new BigInt64Array(ids.length), dims),
  };
  // Only the inputs the graph declares (decoders have no token types).
  const outputs = await session.run(Object.fromEntries(Object.entries(feeds).filter(([name]) => session.inputNames.includes(name))));
  return { outputs, seq, lengths: batch.map((s) => s.length) };
}

export function readJson<T>(path: string): T {
  return JSON.parse(readFileSync(requireFile(path), 'utf8')) as T;
}
