// The heads worker's API: distances between every pair of heads of a run (attention or Q/K
// geometry, lib/analysis/headSimilarity) and the head map's layout from them. A run's tokens
// and where its vectors are are sent once and kept for the calls that name its id; the
// worker reads the heads' vectors itself.
import type { HeadDistances, HeadSimilarityKind } from '../analysis/headSimilarity';
import type { HeadNormalization } from '../analysis/normalize';
import type { RunData } from '../data/layout';
import type { VectorRef } from '../run/types';
import type { HeadMapMethod } from '../views/headMap';

export interface HeadsRun {
  id: number;
  data: RunData;
  vectors: VectorRef;
  /** The paper normalization of each head (geometry compares normalized clouds). */
  norms: HeadNormalization[];
}

export type HeadsApi = {
  /** Replaces the run the worker holds. */
  load: { args: HeadsRun; result: null; progress: null };
  distances: { args: { id: number; kind: HeadSimilarityKind }; result: HeadDistances; progress: null };
  layout: { args: { id: number; kind: HeadSimilarityKind; method: HeadMapMethod; dims: 2 | 3 }; result: Float32Array; progress: null };
};

/** The worker holds another run (or none, after a restart): load it again. */
export const NOT_LOADED = 'not-loaded';
