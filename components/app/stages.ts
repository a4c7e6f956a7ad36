// What the page calls each stage of a run while it runs (the name says what the time is
// spent on) and the unit it counts in.
import type { Device } from '@/lib/engine/runtime';
import type { RunStage } from '@/lib/run/types';

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
