// The model worker's message protocol: typed requests with ids, replies that carry
// progress, results (typed arrays transferred, not copied) or errors as plain messages.
import type { Analysis } from '../analysis/analyze';
import type { QueryKeyData } from '../engine/layout';
import type { DeviceReport } from '../engine/runtime';
import type { ModelManifest } from '../model/manifest';

export type DevicePreference = 'auto' | 'webgpu' | 'wasm';
export type RunStage = 'load' | 'tokenize' | 'extract' | 'normalize';
export const RUN_STAGES: { stage: RunStage; label: string }[] = [
  { stage: 'load', label: 'Load model' },
  { stage: 'tokenize', label: 'Tokenize' },
  { stage: 'extract', label: 'Extract Q/K' },
  { stage: 'normalize', label: 'Normalize' },
];

export type ModelRequest =
  | { type: 'run'; id: number; modelsUrl: string; model: string; device: DevicePreference; sentences: string[] }
  | { type: 'cancel'; id: number };

export interface RunResult {
  manifest: ModelManifest;
  device: DeviceReport;
  data: QueryKeyData;
  analysis: Analysis;
  notices: string[];
  timings: { loadMs: number; tokenizeMs: number; extractMs: number; normalizeMs: number };
  attentionError: number;
}

export type ErrorKind = 'corpus' | 'model' | 'memory' | 'internal';

export type ModelReply =
  | { type: 'progress'; id: number; stage: RunStage; done: number; total: number }
  | { type: 'device'; id: number; device: DeviceReport }
  | { type: 'result'; id: number; result: RunResult }
  | { type: 'cancelled'; id: number }
  | { type: 'error'; id: number; kind: ErrorKind; message: string };

/** The typed arrays of a result, to hand to postMessage's transfer list. */
export function transferablesOf(result: RunResult): ArrayBuffer[] {
  const d = result.data;
  return [d.queries, d.keys, d.attention, d.sentenceStarts, d.attentionStarts].map((a) => a.buffer as ArrayBuffer);
}
