// The analysis helper's API: a slice of heads (vectors transferred in), each head's figures
// and normalizations back, one progress message a head.
import type { HeadAnalysis, HeadSlice } from '../analysis/analyze';

export type AnalysisApi = {
  analyze: { args: HeadSlice; result: HeadAnalysis[]; progress: null };
  /** Answers at once: starting the helper before the first run. */
  ping: { args: null; result: null; progress: null };
};

export { sliceTransfer } from '../analysis/analyze';
