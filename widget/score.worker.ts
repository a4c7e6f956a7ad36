// The widget's model worker (widget/build.mjs starts it instead of workers/model.worker.ts): a
// bundle is viewed with no model, so of the model worker's calls only `score` is served — the
// figures of a bundle written without them (qkviz in Python), as the model worker scores one —
// with the same analysis helpers. The other calls say why they cannot run here.
import { scoreSliceTransfer, type AnalysisApi } from '../lib/protocol/analysis';
import type { ModelApi } from '../lib/protocol/model';
import type { HeadScore, ScoreHelper } from '../lib/analysis/analyze';
import { NORMALIZATION_MODES, type HeadNormalization, type NormalizationMode } from '../lib/analysis/normalize';
import { openRunBundle } from '../lib/run/bundleRun';
import { scoreStoredRun } from '../lib/run/score';
import type { ScoreProgress, ScoreRequest } from '../lib/run/types';
import { type CallContext, type ScopeLike, WorkerClient, serve } from '../lib/worker/rpc';
import { yieldToEvents } from '../lib/worker/yield';

const MAX_HELPERS = 3;
const helperCount = Math.min(MAX_HELPERS, Math.max(0, (navigator.hardwareConcurrency || 2) - 1));
const helpers: ScoreHelper[] = Array.from({ length: helperCount }, (_, i) => {
  const client = new WorkerClient<AnalysisApi>(
    () => new Worker(new URL('../workers/analysis.worker.ts', import.meta.url), { type: 'module', name: `analysis ${i + 1}` }) as never,
    `analysis ${i + 1}`,
  );
  return (slice, onHead, signal) => client.call('score', slice, { transfer: scoreSliceTransfer(slice), onProgress: onHead, signal });
});

async function score(request: ScoreRequest, context: CallContext<ScoreProgress>): Promise<HeadScore[]> {
  if (!('bundle' in request)) throw new Error('the notebook widget keeps no run store: only a bundle can be scored here');
  const file = request.bundle;
  const bundle = await openRunBundle({ size: file.size, read: async (a, b) => new Uint8Array(await file.slice(a, b).arrayBuffer()) }, Infinity);
  if (!bundle.vectors) throw new Error('this bundle holds no queries and keys to score');
  const data = bundle.result.data;
  const params = bundle.result.analysis.params;
  const perHead = Array.from(
    { length: data.layers * data.heads },
    (_, c) => Object.fromEntries(NORMALIZATION_MODES.map((m) => [m, params[m][c]])) as Record<NormalizationMode, HeadNormalization>,
  );
  return scoreStoredRun(bundle.vectors, data, perHead, {
    helpers: helpers.slice(0, request.analysisThreads ? Math.max(0, request.analysisThreads - 1) : undefined),
    signal: context.signal,
    onHead: (done, total) => context.progress({ done, total }),
    afterHead: yieldToEvents,
  });
}

const noModel = (what: string) => () => {
  throw new Error(`${what} needs a model, and the notebook widget shows a bundle with none: open the bundle in the QKViz page to run a model`);
};

serve<ModelApi>(self as unknown as ScopeLike, {
  prepare: noModel('Preparing a model'),
  run: noModel('A run'),
  score,
  install: noModel('Installing a model'),
});
