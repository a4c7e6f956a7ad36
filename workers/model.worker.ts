// Model worker: a thin adapter that hands requests to lib's ModelService and posts its
// replies back, transferring the result's typed arrays.
import * as ort from 'onnxruntime-web/webgpu';
import { ModelService } from '../lib/engine/service';
import type { OrtModule } from '../lib/engine/runtime';
import type { ModelRequest } from '../lib/protocol/model';
import { ORT_WASM_PATH } from '../lib/runtime/ortAssets';

ort.env.wasm.wasmPaths = ORT_WASM_PATH;

const scope = self as unknown as {
  postMessage(message: unknown, transfer?: Transferable[]): void;
  onmessage: ((event: MessageEvent<ModelRequest>) => void) | null;
};
const service = new ModelService(ort as unknown as OrtModule, (reply, transfer) => scope.postMessage(reply, transfer ?? []));
scope.onmessage = (event) => service.handle(event.data);
