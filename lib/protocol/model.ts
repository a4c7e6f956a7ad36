// The model worker's API (served through lib/worker/rpc): `prepare` loads the model and
// measures this device's throughput before anything runs; `run` tokenizes, extracts and
// analyses a corpus, with progress named for what each stage does.
import type { Analysis, PcaView } from '../analysis/analyze';
import type { QueryKeyData, RotaryVectors } from '../engine/layout';
import type { Device, DeviceReport } from '../engine/runtime';
import type { ModelManifest } from '../model/manifest';
import type { InstallProgress, InstallRequest } from '../engine/install';
import type { StoredEntry } from '../model/store';

export type DevicePreference = 'auto' | 'webgpu' | 'wasm';
export const DEVICE_PREFERENCES: DevicePreference[] = ['auto', 'webgpu', 'wasm'];

export type RunStage = 'tokenize' | 'download' | 'compile' | 'warmup' | 'extract' | 'analyze';
export const RUN_STAGES: RunStage[] = ['tokenize', 'download', 'compile', 'warmup', 'extract', 'analyze'];

/** What each stage is called while it runs: its name says what the time is spent on. */
export function stageLabel(stage: RunStage, device?: Device): string {
  switch (stage) {
    case 'tokenize':
      return 'Tokenize';
    case 'download':
      return 'Download model';
    case 'compile':
      return device === 'webgpu' ? 'Compile model for WebGPU' : 'Compile model';
    case 'warmup':
      // WebGPU compiles its shaders on the first batch; that can take a while on a slow adapter.
      return device === 'webgpu' ? 'Preparing GPU kernels' : 'Warm up';
    case 'extract':
      return 'Extract Q/K';
    case 'analyze':
      return 'Normalize & score';
  }
}

/** The unit a stage counts in; null where it has no meaningful count (one opaque step). */
export const STAGE_UNITS: Record<RunStage, string | null> = {
  tokenize: 'sentences',
  download: 'MB',
  compile: null,
  warmup: null,
  extract: 'tokens',
  analyze: 'heads',
};

export interface RunProgress {
  stage: RunStage;
  done: number;
  total: number;
  /** The device, once a session is open. */
  device?: DeviceReport;
}

export interface ModelRef {
  modelsUrl: string;
  model: string;
  device: DevicePreference;
}

export interface Preparation {
  device: DeviceReport;
  /** Extraction throughput on this device, measured on a sample of the corpus after warm-up. */
  tokensPerSecond: number;
  /** The same on WASM, when asked for and the model runs elsewhere (to tell whether WebGPU pays off). */
  wasmTokensPerSecond?: number;
  warmupMs: number;
}

export interface RunResult {
  manifest: ModelManifest;
  device: DeviceReport;
  data: QueryKeyData;
  analysis: Analysis;
  notices: string[];
  timings: { tokenizeMs: number; loadMs: number; warmupMs: number; extractMs: number; analyzeMs: number; analysisThreads?: number };
  attentionError: number;
}

export interface RunOptions {
  sentences: string[];
  /** At most this many threads score the heads (default: every helper the worker has, plus itself). */
  analysisThreads?: number;
  /** PCA layouts to compute with the analysis: the views the page shows first. */
  pca?: PcaView[];
  /** A rotary model's vectors: after the rotation (default; what attention uses) or before it. */
  rotary?: RotaryVectors;
}

export type ErrorKind = 'corpus' | 'model' | 'memory' | 'internal';

export type ModelApi = {
  prepare: { args: ModelRef & { sample: string[]; measureWasm: boolean }; result: Preparation; progress: RunProgress };
  run: { args: ModelRef & RunOptions; result: RunResult; progress: RunProgress };
  /** Downloads (hub) or reads (folder), converts and stores a model in the browser. */
  install: { args: InstallRequest; result: StoredEntry; progress: InstallProgress };
};

/** The typed arrays of a result, to hand to postMessage's transfer list. */
export function transferablesOf(result: RunResult): ArrayBuffer[] {
  const d = result.data;
  const layouts = (result.analysis.layouts ?? []).flatMap((l) => l.heads);
  return [d.queries, d.keys, d.attention, d.sentenceStarts, d.attentionStarts, ...layouts].map((a) => a.buffer as ArrayBuffer);
}
