// The analysis helper's API: a slice of a stored run's heads (vectors and normalizations
// transferred in) scored under every mode, each head's figures back, one progress message a head.
import type { HeadScore, ScoreSlice } from '../analysis/analyze';

export type AnalysisApi = {
  score: { args: ScoreSlice; result: HeadScore[]; progress: null };
  /** Answers at once: starting the helper before the first run. */
  ping: { args: null; result: null; progress: null };
};

export { scoreSliceTransfer } from '../run/score';
