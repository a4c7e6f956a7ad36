// The model worker's API (served through lib/worker/rpc): `prepare` loads the model and
// measures this device's throughput before anything runs; `run` tokenizes, extracts and
// analyses a corpus, with progress named for what each stage does; `install` converts and
// stores a model opened by hub id or from a folder.
import type { InstallProgress, InstallRequest } from '../run/install';
import type { ModelRef, Preparation, RunOptions, RunProgress, RunResult } from '../run/types';

export { transferablesOf } from '../run/transfer';
import type { StoredEntry } from '../model/store';

export type ModelApi = {
  prepare: { args: ModelRef & { sample: string[]; measureWasm: boolean }; result: Preparation; progress: RunProgress };
  run: { args: ModelRef & RunOptions; result: RunResult; progress: RunProgress };
  /** Downloads (hub) or reads (folder), converts and stores a model in the browser. */
  install: { args: InstallRequest; result: StoredEntry; progress: InstallProgress };
};
