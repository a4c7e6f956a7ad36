// The projection worker's API: one whole head per call, its joint vectors transferred in and
// its coordinates transferred back, with UMAP epoch progress.
import type { ProjectionParams, UmapKernel } from '../projection/project';

export interface ProjectRequest {
  layer: number;
  head: number;
  /** [2N][dim] normalized queries then keys. */
  joint: Float32Array;
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
