// The page's model and corpus workers, one each, started on first use (lib/worker/rpc).
import type { CorpusApi } from '@/lib/protocol/corpus';
import type { ModelApi } from '@/lib/protocol/model';
import type { HeadsApi } from '@/lib/protocol/heads';
import { WorkerClient } from '@/lib/worker/rpc';

export const MODELS_URL = '/models';

export const modelClient = new WorkerClient<ModelApi>(
  () => new Worker(new URL('../../workers/model.worker.ts', import.meta.url), { type: 'module', name: 'model' }) as never,
  'model',
);
export const corpusClient = new WorkerClient<CorpusApi>(
  () => new Worker(new URL('../../workers/corpus.worker.ts', import.meta.url), { type: 'module', name: 'corpus' }) as never,
  'corpus',
);
export const headsClient = new WorkerClient<HeadsApi>(
  () => new Worker(new URL('../../workers/heads.worker.ts', import.meta.url), { type: 'module', name: 'heads' }) as never,
  'heads',
);
