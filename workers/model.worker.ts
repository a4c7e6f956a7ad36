// Model worker: serves lib's ModelService (prepare, run into the page's run store, score) and
// model installs through the shared RPC runtime.
import * as ort from 'onnxruntime-web/webgpu';
import type { OrtModule } from '../lib/engine/runtime';
import { ModelService, errorKind } from '../lib/run/service';
import { installModel } from '../lib/run/install';
import { browserModelStore } from '../lib/browser/modelStore';
import type { ModelApi } from '../lib/protocol/model';
import { configureOrtWeb } from '../lib/runtime/ort';
import { type ScopeLike, WorkerClient, serve } from '../lib/worker/rpc';
import type { ScoreHelper } from '../lib/analysis/analyze';
import { type AnalysisApi, scoreSliceTransfer } from '../lib/protocol/analysis';
import { runStore } from '../lib/browser/runCache';

const configured = configureOrtWeb(ort);

// Scoring helpers: one per spare core (at most MAX_HELPERS), started on the first run.
const MAX_HELPERS = 3;
const helperCount = Math.min(MAX_HELPERS, Math.max(0, (navigator.hardwareConcurrency || 2) - 1));
const clients = Array.from(
  { length: helperCount },
  (_, i) =>
    new WorkerClient<AnalysisApi>(
      () => new Worker(new URL('./analysis.worker.ts', import.meta.url), { type: 'module', name: `analysis ${i + 1}` }) as never,
      `analysis ${i + 1}`,
    ),
);
const helpers: ScoreHelper[] = clients.map(
  (client) => (slice, onHead, signal) => client.call('score', slice, { transfer: scoreSliceTransfer(slice), onProgress: onHead, signal }),
);
const service = new ModelService(
  ort as unknown as OrtModule,
  async () => runStore(),
  () => helpers,
  browserModelStore,
);
// Loaded while the model prepares, so the first run's analysis does not wait for them.
const startHelpers = () => clients.forEach((c) => c.call('ping', null).catch(() => {}));

serve<ModelApi>(
  self as unknown as ScopeLike,
  {
    prepare: async (args, context) => (startHelpers(), await configured, service.prepare(args, context)),
    run: async (args, context) => (await configured, service.run(args, context)),
    score: (args, context) => service.score(args, context),
    install: (args, context) => installModel(args, context, browserModelStore),
  },
  errorKind,
);
