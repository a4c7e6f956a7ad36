// Model worker: serves lib's ModelService (prepare, run) through the shared RPC runtime.
import * as ort from 'onnxruntime-web/webgpu';
import type { OrtModule } from '../lib/engine/runtime';
import { ModelService, errorKind } from '../lib/engine/service';
import type { ModelApi } from '../lib/protocol/model';
import { configureOrtWeb } from '../lib/runtime/ort';
import { type ScopeLike, serve } from '../lib/worker/rpc';

const configured = configureOrtWeb(ort);
const service = new ModelService(ort as unknown as OrtModule);

serve<ModelApi>(
  self as unknown as ScopeLike,
  {
    prepare: async (args, context) => (await configured, service.prepare(args, context)),
    run: async (args, context) => (await configured, service.run(args, context)),
  },
  errorKind,
);
