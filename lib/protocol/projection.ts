// The projection worker's API: one whole head per call, its raw queries and keys and its
// normalization in, its coordinates transferred back, with UMAP epoch progress.
import type { HeadNormalization } from '../analysis/normalize';
import type { ProjectionParams, UmapKernel } from '../projection/project';

export interface ProjectRequest {
  layer: number;
  head: number;
  /** [N][dim] raw queries and the head's keys. */
  q: Float32Array;
  k: Float32Array;
  norm: HeadNormalization;
  dim: number;
  params: ProjectionParams;
}

export type ProjectionApi = {
  project: {
    args: ProjectRequest;
    result: { coords: Float32Array; ms: number; explainedVariance?: number[]; kernel?: UmapKernel };
    progress: { epoch: number; epochs: number };
  };
};

/** Epochs between progress messages from a UMAP task. */
export const PROGRESS_EVERY_EPOCHS = 5;
