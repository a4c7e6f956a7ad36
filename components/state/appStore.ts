// The model, the corpus and the runs, in one store outside React (zustand): what the
// sidebar shows (model facts, corpus counts and refusals, run progress with ETA) and the
// result on screen, which only a successful run or a cache hit replaces.
import { createStore } from 'zustand/vanilla';
import { useStore } from 'zustand';
import type { CorpusFacts } from '@/lib/run/plan';
import type { ModelManifest } from '@/lib/model/manifest';
import type { RotaryVectors } from '@/lib/data/layout';
import type { DevicePreference, ErrorKind, Preparation, RunProgress, RunResult } from '@/lib/run/types';
import type { ViewState as LinkState } from '@/lib/views/urlState';
import type { CachedRunInfo } from '../../lib/browser/runCache';
import type { VectorDtype } from '@/lib/store/runStore';
import type { LayoutStore } from '../projection/LayoutStore';
import type { ProjectionScheduler } from '../projection/ProjectionScheduler';

export type CorpusSource = 'default' | 'paste' | 'upload';

export interface CorpusDraft {
  source: CorpusSource;
  pasted: string;
  /** An uploaded file; `sentences` when they come already split (a bundle's corpus, exactly as it was given). */
  upload: { name: string; text: string; sentences?: string[] } | null;
  uploadError: string | null;
}

export interface CorpusSelection {
  label: string;
  sentences: string[];
  blankLines: number;
  rejected: number;
  /** SHA-256 prefix of the sentences (the cache and shared links key on it); null while hashing. */
  hash: string | null;
}

export type CountState =
  | { status: 'idle' }
  | { status: 'counting'; done: number; total: number }
  /** `lengths`: each sentence's tokens, to work the facts out again (another precision on disk). */
  | { status: 'done'; facts: CorpusFacts; lengths: Int32Array }
  | { status: 'error'; message: string };

export type RunState =
  | { status: 'idle' }
  | {
      status: 'running';
      progress: RunProgress;
      /** Estimated milliseconds left in the current stage, from measured throughput. */
      etaMs: number | null;
      /** Tokens per second measured so far in this run's extraction. */
      rate: number | null;
      /** Set when WebGPU runs slower than WASM measured on this machine. */
      slower: { webgpu: number; wasm: number } | null;
    }
  | { status: 'cancelled' }
  | { status: 'error'; kind: ErrorKind | 'refused'; message: string };

export interface ShownResult {
  /** Counts the results shown on this page (1, 2, …): a new one is a new number. */
  id: number;
  result: RunResult;
  source: 'run' | 'cache' | 'bundle';
  /** A bundle's file name and who made it (source 'bundle'). */
  bundle?: { name: string; createdBy: string; viewsOnly: string | null };
  hash: string;
  label: string;
  /** The corpus as it was given (a bundle saved from this view carries it). */
  corpus: string[];
  savedAt: number | null;
}

export interface AppState {
  manifest: ModelManifest | null;
  loadError: string | null;
  defaultText: string | null;
  defaultHash: string | null;
  draft: CorpusDraft;
  /** The corpus as parsed from the draft; null while there is none. */
  corpus: CorpusSelection | null;
  /** A vision model's image corpus: being decoded, or why it could not be (components/app/images.ts holds the images). */
  imageStatus: { loading: boolean; error: string | null; note?: string | null };
  /** Why the draft cannot run (empty, unreadable), in words. */
  corpusProblem: string | null;
  count: CountState;
  device: DevicePreference;
  /** A rotary model's run: vectors after (post) or before (pre) the rotation. */
  rotary: RotaryVectors;
  /** The model loaded and measured before any run (null until then). */
  prepared: (Preparation & { model: string; preference: DevicePreference }) | null;
  /** Bumped when a measured rate is stored, so estimates made from them are redone. */
  ratesVersion: number;
  preparing: RunProgress | null;
  run: RunState;
  shown: ShownResult | null;
  /** The shown result's layouts and the scheduler computing them. */
  projection: { layouts: LayoutStore; scheduler: ProjectionScheduler } | null;
  /** A shared link's view, waiting for the first result; and what to say about it. */
  link: LinkState | null;
  linkNotice: string | null;
  /** Opening a bundle: what is being read, or why it was refused. */
  bundleStatus: { kind: 'reading' | 'error'; message: string } | null;
  /** The shown run's figures being scored (they follow its matrix), and why they failed if they did. */
  scoring: { id: number; done: number; total: number } | null;
  scoringError: string | null;
  /** How a run's store keeps its vectors: float32, or float16 (half the disk, ~3 significant digits). */
  vectorDtype: VectorDtype;
  /** The runs this browser keeps (newest first), their total size, and a note. */
  cache: { runs: number; bytes: number; message: string | null; index: CachedRunInfo[] };
}

export const appStore = createStore<AppState>(() => ({
  manifest: null,
  loadError: null,
  defaultText: null,
  defaultHash: null,
  draft: { source: 'default', pasted: '', upload: null, uploadError: null },
  corpus: null,
  corpusProblem: null,
  imageStatus: { loading: false, error: null },
  count: { status: 'idle' },
  device: 'auto',
  rotary: 'post',
  prepared: null,
  ratesVersion: 0,
  preparing: null,
  run: { status: 'idle' },
  shown: null,
  projection: null,
  link: null,
  linkNotice: null,
  bundleStatus: null,
  cache: { runs: 0, bytes: 0, message: null, index: [] },
  scoring: null,
  scoringError: null,
  vectorDtype: 'float32',
}));

export const useApp = <T>(select: (s: AppState) => T): T => useStore(appStore, select);
