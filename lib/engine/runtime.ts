// The one place that decides where the model runs: WebGPU when a hardware adapter exists,
// else WASM (threaded when the page is cross-origin isolated), native CPU in Node. Auto
// never picks a software WebGPU adapter (SwiftShader and the like run the model tens of
// times slower than WASM); an explicit WebGPU choice may. It reports the device that ran
// and why another was not used, and if WebGPU fails mid-run it reopens on WASM and retries.
import type { InferenceSession, Tensor } from 'onnxruntime-common';

export type Device = 'webgpu' | 'wasm' | 'cpu';

/** What a person picks: Auto (WebGPU on a hardware adapter, else WASM), or one of them. */
export type DevicePreference = 'auto' | 'webgpu' | 'wasm';
export const DEVICE_PREFERENCES: DevicePreference[] = ['auto', 'webgpu', 'wasm'];

/** The part of an onnxruntime module (onnxruntime-web or onnxruntime-node) the engine uses. */
export interface OrtModule {
  InferenceSession: { create(model: Uint8Array | string, options?: InferenceSession.SessionOptions): Promise<InferenceSession> };
  Tensor: new (type: 'int64' | 'float32', data: BigInt64Array | Float32Array, dims: readonly number[]) => Tensor;
  env: { wasm?: { numThreads?: number; wasmPaths?: unknown } };
}

/** onnxruntime's log severity for every session: 0 verbose … 3 errors only. */
export const ORT_LOG_SEVERITY = 3;

export interface DeviceReport {
  device: Device;
  /** WASM threads, when the device is WASM. */
  threads?: number;
  /** The WebGPU adapter, as it describes itself (vendor, architecture). */
  adapter?: string;
  /** Why a preferred device was not used, or was abandoned mid-run. */
  fallback?: string;
  /** Where a run made outside the page ran, in its own words (a Python bundle: "PyTorch cuda:0", "Ray, 4 workers"). */
  label?: string;
}

/** Token ids and masks (int64), or a vision model's pixels (float32). */
export type Feeds = Record<string, { data: BigInt64Array | Float32Array; dims: number[] }>;

/** What onnxruntime reads an external data file from: bytes, a URL or path, or a Blob (a File in the Origin Private File System). */
export type ExternalBytes = Uint8Array | string | { size: number; arrayBuffer(): Promise<ArrayBuffer> };

/** A model as onnxruntime opens it: the graph, and the files its weights are kept in when they are outside it. */
export interface ModelGraph {
  bytes: Uint8Array;
  data?: { path: string; data: ExternalBytes }[];
  /** A float16 graph: onnxruntime must not fold its Casts into float32 copies of every weight. */
  float16?: boolean;
  /** Node: the model file on disk, opened by onnxruntime itself (its data files read beside it, not through JavaScript). */
  path?: string;
}

const graphOf = (model: Uint8Array | ModelGraph): ModelGraph => (model instanceof Uint8Array ? { bytes: model } : model);

/**
 * Session options for a graph: its external data, and for float16 weights no constant folding
 * (onnxruntime would otherwise widen every Cast weight to float32 when the session opens,
 * doubling the memory the half-precision file saved; each weight is widened as it is used).
 */
function graphOptions(graph: ModelGraph): InferenceSession.SessionOptions {
  const options: InferenceSession.SessionOptions = {};
  if (graph.data?.length && !graph.path) options.externalData = graph.data as InferenceSession.SessionOptions['externalData'];
  if (graph.float16) {
    options.graphOptimizationLevel = 'extended';
    options.extra = { optimization: { disable_specified_optimizers: 'ConstantFolding' } };
  }
  return options;
}

export interface ModelRunner {
  readonly report: DeviceReport;
  /** The graph's declared inputs (feeds beyond them are an error in onnxruntime). */
  readonly inputNames?: readonly string[];
  /** The graph's declared outputs (a graph converted before value norms existed lacks them). */
  readonly outputNames?: readonly string[];
  run(feeds: Feeds, outputs: string[]): Promise<Record<string, Float32Array>>;
  release(): Promise<void>;
}

export class ModelLoadError extends Error {}

/** What a WebGPU adapter says about itself (GPUAdapterInfo). */
export interface AdapterInfo {
  vendor?: string;
  architecture?: string;
  device?: string;
  description?: string;
  isFallbackAdapter?: boolean;
}

interface NavigatorWithGpu {
  gpu?: { requestAdapter(): Promise<{ info?: AdapterInfo } | null> };
  hardwareConcurrency?: number;
}

/** Threads for ORT's WASM backend: SharedArrayBuffer needs cross-origin isolation. */
export function wasmThreads(): number {
  const g = globalThis as { crossOriginIsolated?: boolean; navigator?: NavigatorWithGpu };
  if (!g.crossOriginIsolated) return 1;
  return Math.max(1, Math.min(4, g.navigator?.hardwareConcurrency ?? 1));
}

const SOFTWARE_ADAPTER = /swiftshader|llvmpipe|lavapipe|softpipe|microsoft basic render|\bwarp\b/i;

/** A software (fallback) adapter: the browser says so, or its name is a known CPU rasteriser. */
export function isSoftwareAdapter(info: AdapterInfo): boolean {
  return info.isFallbackAdapter === true || SOFTWARE_ADAPTER.test([info.vendor, info.architecture, info.device, info.description].join(' '));
}

export const describeAdapter = (info: AdapterInfo) =>
  [info.vendor, info.architecture || info.device || info.description].filter(Boolean).join(' ') || 'unnamed adapter';

/** The adapter's name when WebGPU may be used, or why it may not. */
async function webgpuAdapter(allowSoftware: boolean): Promise<{ adapter: string } | { missing: string }> {
  const nav = (globalThis as { navigator?: NavigatorWithGpu }).navigator;
  if (!nav?.gpu) return { missing: 'this browser has no WebGPU' };
  try {
    const adapter = await nav.gpu.requestAdapter();
    if (!adapter) return { missing: 'no WebGPU adapter is available' };
    const info = adapter.info ?? {};
    if (!allowSoftware && isSoftwareAdapter(info)) {
      return { missing: `WebGPU adapter is a software renderer (${describeAdapter(info)}), slower than WASM` };
    }
    return { adapter: describeAdapter(info) };
  } catch (e) {
    return { missing: `WebGPU adapter request failed: ${(e as Error).message}` };
  }
}

/** Devices to try for a preference: 'auto' and 'webgpu' fall back to WASM; only 'webgpu' accepts a software adapter. */
export function devicePlan(preference: DevicePreference): { candidates: Device[]; allowSoftwareAdapter: boolean } {
  return { candidates: preference === 'wasm' ? ['wasm'] : ['webgpu', 'wasm'], allowSoftwareAdapter: preference === 'webgpu' };
}

async function createSession(ort: OrtModule, graph: ModelGraph, device: Device, override: InferenceSession.SessionOptions = {}): Promise<InferenceSession> {
  if (device === 'wasm' && ort.env.wasm) ort.env.wasm.numThreads = wasmThreads();
  const own = graphOptions(graph);
  // Native CPU threads otherwise keep spinning after a run and steal cores from whatever
  // runs next (another session, the analysis), which also skews benchmarks.
  const extra = { ...(own.extra ?? {}), ...(device === 'cpu' ? { session: { intra_op: { allow_spinning: '0' } } } : {}) };
  return ort.InferenceSession.create(device === 'cpu' && graph.path ? graph.path : graph.bytes, {
    executionProviders: [device],
    graphOptimizationLevel: 'all',
    logSeverityLevel: ORT_LOG_SEVERITY,
    ...own,
    extra,
    ...override,
  });
}

export interface OpenOptions {
  /** Accept a software WebGPU adapter (an explicit WebGPU choice). */
  allowSoftwareAdapter?: boolean;
  log?: (message: string) => void;
  /** Session options over QKViz's own (the Node benchmark tries onnxruntime's variants). */
  sessionOptions?: InferenceSession.SessionOptions;
}

/**
 * Opens the model on the first device of `candidates` that works. In a browser pass
 * devicePlan(preference).candidates; in Node pass ['cpu'].
 */
export async function openModel(ort: OrtModule, model: Uint8Array | ModelGraph, candidates: Device[], options: OpenOptions = {}): Promise<ModelRunner> {
  const graph = graphOf(model);
  const log = options.log ?? (() => {});
  const reasons: string[] = [];
  for (const device of candidates) {
    let adapter: string | undefined;
    if (device === 'webgpu') {
      const found = await webgpuAdapter(options.allowSoftwareAdapter ?? false);
      if ('missing' in found) {
        reasons.push(found.missing);
        continue;
      }
      adapter = found.adapter;
    }
    try {
      const session = await createSession(ort, graph, device, options.sessionOptions);
      const report: DeviceReport = { device, threads: device === 'wasm' ? wasmThreads() : undefined, adapter, fallback: reasons.join('; ') || undefined };
      log(`model opened on ${device}${report.fallback ? ` (${report.fallback})` : ''}`);
      return new SessionRunner(ort, device === 'webgpu' ? graph : null, session, report, candidates.slice(candidates.indexOf(device) + 1), log);
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
    /** Kept only while there is a device to fall back to (a large model's weights are not held twice for nothing). */
    private graph: ModelGraph | null,
    private session: InferenceSession,
    report: DeviceReport,
    private fallbacks: Device[],
    private log: (m: string) => void,
  ) {
    this.report = report;
  }

  get inputNames(): readonly string[] {
    return this.session.inputNames;
  }

  get outputNames(): readonly string[] {
    return this.session.outputNames;
  }

  async run(feeds: Feeds, outputs: string[]): Promise<Record<string, Float32Array>> {
    try {
      return await this.runOnce(feeds, outputs);
    } catch (e) {
      const next = this.fallbacks.shift();
      if (this.report.device !== 'webgpu' || !next || !this.graph) throw e;
      const reason = `WebGPU failed during the run (${(e as Error).message}); continued on ${next.toUpperCase()}`;
      this.log(reason);
      await this.session.release().catch(() => {});
      this.session = await createSession(this.ort, this.graph, next);
      this.graph = null;
      this.report = { device: next, threads: next === 'wasm' ? wasmThreads() : undefined, fallback: reason };
      return this.runOnce(feeds, outputs);
    }
  }

  private async runOnce(feeds: Feeds, outputs: string[]): Promise<Record<string, Float32Array>> {
    const tensors: Record<string, Tensor> = {};
    for (const [name, f] of Object.entries(feeds)) tensors[name] = new this.ort.Tensor(f.data instanceof Float32Array ? 'float32' : 'int64', f.data, f.dims);
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
