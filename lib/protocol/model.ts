// The model worker's API (served through lib/worker/rpc): `prepare` loads the model and
// measures this device's throughput before anything runs; `run` tokenizes, extracts into the
// page's run store and analyses a corpus, with progress named for what each stage does;
// `score` computes a stored run's figures; `install` converts and stores a model opened by
// hub id or from a folder.
import type { InstallProgress, InstallRequest } from '../run/install';
import type { HeadScore } from '../analysis/analyze';
import type { ModelRef, Preparation, RunOptions, RunProgress, RunResult, ScoreProgress, ScoreRequest } from '../run/types';

export { transferablesOf } from '../run/transfer';
import type { StoredEntry } from '../model/store';

export type ModelApi = {
  prepare: { args: ModelRef & { sample: string[]; measureWasm: boolean }; result: Preparation; progress: RunProgress };
  run: { args: ModelRef & RunOptions; result: RunResult; progress: RunProgress };
  /** A stored run's or an unscored bundle's figures (after its matrix is on screen). */
  score: { args: ScoreRequest; result: HeadScore[]; progress: ScoreProgress };
  /** Downloads (hub) or reads (folder), converts and stores a model in the browser. */
  install: { args: InstallRequest; result: StoredEntry; progress: InstallProgress };
};
