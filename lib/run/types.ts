// What a run is, for everything above the engine: its stages and progress, what the page
// asks for, and what comes back (the model card, the device, the data, the analysis, the
// first views' layouts and the timings).
import type { Analysis } from '../analysis/analyze';
import type { RunData, RotaryVectors } from '../data/layout';
import type { VectorDtype } from '../store/runStore';
import type { DevicePreference, DeviceReport } from '../engine/runtime';
import type { ModelManifest } from '../model/manifest';
import type { DecodedImage } from '../corpus/images';
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
  /** The extraction stage: the model's calls, and each window written to the store and added to the heads' sums. */
  extractMs: number;
  /** Of that: the model's calls alone, and the store and sums. */
  modelMs?: number;
  storeMs?: number;
  /** After the last batch: each head read back, normalized and laid out (the first views' PCA). */
  analyzeMs: number;
  analysisThreads?: number;
}

/**
 * Where a run's queries and keys are: a run in the page's store (the Origin Private File
 * System), or a bundle file read in place. The page never holds them whole: views, projection
 * and scoring read a head (or a sentence of one) at a time.
 */
export type VectorRef = { kind: 'store'; id: string } | { kind: 'bundle'; file: Blob; name: string };

export interface RunResult {
  manifest: ModelManifest;
  device: DeviceReport;
  /** The run's shape, tokens and the model's sampled attention (its vectors: `vectors`). */
  data: RunData;
  /** Where its queries and keys are; null for a bundle of views only. */
  vectors: VectorRef | null;
  /** Every head's normalizations, attention figures and check; its figures once `analysis.scored`. */
  analysis: Analysis;
  /** The PCA layouts of the views asked for (the page moves them into its layout store). */
  layouts?: PcaLayouts[];
  notices: string[];
  timings: RunTimings;
  /** Largest |attention recomputed from Q/K − the model's attention| on the sampled sentences (NaN: none checked). */
  attentionError: number;
}

export interface RunOptions {
  /** A text corpus; for an image corpus, the images' names (what the cache lists). */
  sentences: string[];
  /** An image corpus, decoded to 8-bit RGB (a vision model reads these instead of sentences). */
  images?: DecodedImage[];
  /** At most this many threads score the heads (default: every helper the worker has, plus itself). */
  analysisThreads?: number;
  /** PCA layouts to compute with the analysis: the views the page shows first. */
  pca?: PcaView[];
  /** A rotary model's vectors: after the rotation (default; what attention uses) or before it. */
  rotary?: RotaryVectors;
  /** The run's id in the page's store (unique per run), and how it keeps the vectors. */
  id: string;
  dtype: VectorDtype;
  /** Written into the run's record (the cache lists runs by them). */
  label: string;
  corpusHash: string;
}

/** What a stored run records beside its vectors (run.json's extra): all the page needs to show it again. */
export interface StoredRunExtra {
  manifest: ModelManifest;
  device: DeviceReport;
  notices: string[];
  timings: RunTimings;
  attentionError: number;
  analysis: Analysis;
  /** The corpus exactly as it was given (split sentences as one). */
  corpus: string[];
  label: string;
  corpusHash: string;
}

export type ErrorKind = 'corpus' | 'model' | 'memory' | 'internal';

/** Whose figures to score: a run in the page's store (they are saved beside it), or a bundle written without them (qkviz in Python). */
export type ScoreRequest = ({ id: string } | { bundle: Blob }) & { analysisThreads?: number };

/** Heads scored so far (the figures come after the matrix). */
export interface ScoreProgress {
  done: number;
  total: number;
}
