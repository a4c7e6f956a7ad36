// The analysis helper's API: a slice of heads (vectors and attention transferred in), each
// head's figures and normalizations back, one progress message a head.
import type { HeadAnalysis, HeadSlice } from '../analysis/analyze';

export type AnalysisApi = {
  analyze: { args: HeadSlice; result: HeadAnalysis[]; progress: null };
  /** Answers at once: starting the helper before the first run. */
  ping: { args: null; result: null; progress: null };
};

/** The buffers a helper's answer travels with: its PCA layouts. */
export const headAnalysesTransfer = (heads: HeadAnalysis[]): ArrayBuffer[] => heads.flatMap((h) => h.layouts.map((c) => c.buffer as ArrayBuffer));

/** The buffers a slice travels with (moved, not copied). */
export const sliceTransfer = (slice: HeadSlice): ArrayBuffer[] => [slice.queries.buffer, slice.keys.buffer, slice.attention.buffer] as ArrayBuffer[];
