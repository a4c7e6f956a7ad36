// Messages between the page and a projection worker: one whole head per task, its joint
// vectors transferred in and its coordinates transferred back.
import type { ProjectionParams } from '../projection/project';

export interface ProjectTask {
  type: 'project';
  id: number;
  layer: number;
  head: number;
  /** [2N][dim] normalized queries then keys. */
  joint: Float32Array;
  dim: number;
  params: ProjectionParams;
}

export type ProjectionReply =
  | { type: 'progress'; id: number; epoch: number; epochs: number }
  | { type: 'done'; id: number; coords: Float32Array; ms: number; explainedVariance?: number[] }
  | { type: 'error'; id: number; message: string };

/** Epochs between progress messages from a UMAP task. */
export const PROGRESS_EVERY_EPOCHS = 5;
