// The one place that decides where the model runs: WebGPU when an adapter exists, else
// WASM (threaded when the page is cross-origin isolated), native CPU in Node. It reports
// the device that ran, and if WebGPU fails mid-run it reopens the model on WASM and retries.
import type { InferenceSession, Tensor } from 'onnxruntime-common';

export type Device = 'webgpu' | 'wasm' | 'cpu';

/** The part of an onnxruntime module (onnxruntime-web or onnxruntime-node) the engine uses. */
export interface OrtModule {
  InferenceSession: { create(model: Uint8Array, options?: InferenceSession.SessionOptions): Promise<InferenceSession> };
  Tensor: new (type: 'int64', data: BigInt64Array, dims: readonly number[]) => Tensor;
  env: { wasm?: { numThreads?: number; wasmPaths?: unknown } };
}

export interface DeviceReport {
  device: Device;
  /** WASM threads, when the device is WASM. */
  threads?: number;
  /** Why a preferred device was not used, or was abandoned mid-run. */
  fallback?: string;
}

export type Feeds = Record<string, { data: BigInt64Array; dims: number[] }>;

export interface ModelRunner {
  readonly report: DeviceReport;
  run(feeds: Feeds, outputs: string[]): Promise<Record<string, Float32Array>>;
  release(): Promise<void>;
}

export class ModelLoadError extends Error {}

interface NavigatorWithGpu {
  gpu?: { requestAdapter(): Promise<unknown | null> };
  hardwareConcurrency?: number;
}

/** Threads for ORT's WASM backend: SharedArrayBuffer needs cross-origin isolation. */
export function wasmThreads(): number {
  const g = globalThis as { crossOriginIsolated?: boolean; navigator?: NavigatorWithGpu };
  if (!g.crossOriginIsolated) return 1;
  return Math.max(1, Math.min(4, g.navigator?.hardwareConcurrency ?? 1));
}

async function webgpuAvailable(): Promise<string | null> {
  const nav = (globalThis as { navigator?: NavigatorWithGpu }).navigator;
  if (!nav?.gpu) return 'this browser has no WebGPU';
  try {
    return (await nav.gpu.requestAdapter()) ? null : 'no WebGPU adapter is available';
  } catch (e) {
    return `WebGPU adapter request failed: ${(e as Error).message}`;
  }
}

async function createSession(ort: OrtModule, model: Uint8Array, device: Device): Promise<InferenceSession> {
  if (device === 'wasm' && ort.env.wasm) ort.env.wasm.numThreads = wasmThreads();
  // Native CPU threads otherwise keep spinning after a run and steal cores from whatever
  // runs next (another session, the analysis), which also skews benchmarks.
  const extra = device === 'cpu' ? { session: { intra_op: { allow_spinning: '0' } } } : undefined;
  return ort.InferenceSession.create(model, { executionProviders: [device], graphOptimizationLevel: 'all', extra });
}

/**
 * Opens the model on the first device of `candidates` that works. In a browser pass
 * ['webgpu', 'wasm'] (or ['wasm'] to skip the GPU); in Node pass ['cpu'].
 */
export async function openModel(ort: OrtModule, model: Uint8Array, candidates: Device[], log: (m: string) => void = () => {}): Promise<ModelRunner> {
  const reasons: string[] = [];
  for (const device of candidates) {
    if (device === 'webgpu') {
      const missing = await webgpuAvailable();
      if (missing) {
        reasons.push(missing);
        continue;
      }
    }
    try {
      const session = await createSession(ort, model, device);
      const report: DeviceReport = { device, threads: device === 'wasm' ? wasmThreads() : undefined, fallback: reasons.join('; ') || undefined };
      log(`model opened on ${device}${report.fallback ? ` (${report.fallback})` : ''}`);
      return new SessionRunner(ort, model, session, report, candidates.slice(candidates.indexOf(device) + 1), log);
    } catch (e) {
      const message = (e as Error).message ?? String(e);
      if (device !== 'webgpu') throw new ModelLoadError(describeLoadError(message));
      reasons.push(`WebGPU could not open the model: ${message}`);
    }
  }
  throw new ModelLoadError(`no device could run the model: ${reasons.join('; ')}`);
}

function describeLoadError(message: string): string {
  if (/protobuf|parse|invalid|corrupt|Load model/i.test(message)) {
    return `model.onnx is corrupt or incomplete and could not be loaded (${message}). Convert it again with \`npm run setup:model -- --force\`.`;
  }
  return `the model could not be loaded: ${message}`;
}

class SessionRunner implements ModelRunner {
  report: DeviceReport;

  constructor(
    private ort: OrtModule,
    private model: Uint8Array,
    private session: InferenceSession,
    report: DeviceReport,
    private fallbacks: Device[],
    private log: (m: string) => void,
  ) {
    this.report = report;
  }

  async run(feeds: Feeds, outputs: string[]): Promise<Record<string, Float32Array>> {
    try {
      return await this.runOnce(feeds, outputs);
    } catch (e) {
      const next = this.fallbacks.shift();
      if (this.report.device !== 'webgpu' || !next) throw e;
      const reason = `WebGPU failed during the run (${(e as Error).message}); continued on ${next.toUpperCase()}`;
      this.log(reason);
      await this.session.release().catch(() => {});
      this.session = await createSession(this.ort, this.model, next);
      this.report = { device: next, threads: next === 'wasm' ? wasmThreads() : undefined, fallback: reason };
      return this.runOnce(feeds, outputs);
    }
  }

  private async runOnce(feeds: Feeds, outputs: string[]): Promise<Record<string, Float32Array>> {
    const tensors: Record<string, Tensor> = {};
    for (const [name, f] of Object.entries(feeds)) tensors[name] = new this.ort.Tensor('int64', f.data, f.dims);
    const result = await this.session.run(tensors, outputs);
    const out: Record<string, Float32Array> = {};
    for (const name of outputs) {
      const t = result[name];
      out[name] = t.data as Float32Array;
    }
    return out;
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}
