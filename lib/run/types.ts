// What a run is, for everything above the engine: its stages and progress, what the page
// asks for, and what comes back (the model card, the device, the data, the analysis, the
// first views' layouts and the timings).
import type { Analysis } from '../analysis/analyze';
import type { QueryKeyData, RotaryVectors } from '../data/layout';
import type { DevicePreference, DeviceReport } from '../engine/runtime';
import type { ModelManifest } from '../model/manifest';
import type { PcaLayouts, PcaView } from '../projection/pcaViews';

export type { DevicePreference };

export type RunStage = 'tokenize' | 'download' | 'compile' | 'warmup' | 'extract' | 'analyze';
export const RUN_STAGES: RunStage[] = ['tokenize', 'download', 'compile', 'warmup', 'extract', 'analyze'];

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

export interface RunTimings {
  tokenizeMs: number;
  loadMs: number;
  warmupMs: number;
  extractMs: number;
  /** Normalize & score, and the first views' PCA. */
  analyzeMs: number;
  analysisThreads?: number;
}

export interface RunResult {
  manifest: ModelManifest;
  device: DeviceReport;
  data: QueryKeyData;
  analysis: Analysis;
  /** The PCA layouts of the views asked for (the page moves them into its layout store). */
  layouts?: PcaLayouts[];
  notices: string[];
  timings: RunTimings;
  /** Largest |attention recomputed from Q/K − the model's attention| on the sampled sentences (NaN: none checked). */
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
