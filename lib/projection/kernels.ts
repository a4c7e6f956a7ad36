// UMAP's two hot loops in WebAssembly (wasm/umap.ts, AssemblyScript, SIMD): NN-descent kNN
// and an SGD epoch. Each call gets its own instance and memory, so workers never share
// state; `wasmKernels()` is null where WebAssembly SIMD is missing, and callers then use
// the JavaScript versions (lib/projection/knn.ts, umap.ts), which compute the same thing.
import { UMAP_WASM_BASE64 } from './umapWasm';

/** The part of the WebAssembly API used here (lib/ compiles without the DOM library). */
interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: unknown };
}

interface Exports {
  memory: { buffer: ArrayBuffer; grow(pages: number): number };
  heapBase(): number;
  setSeed(seed: number): void;
  getSeed(): number;
  /** The SGD's x^b, exported so a test can compare it with Math.pow. */
  powForTest(x: number, b: number): number;
  nnDescent(x: number, n: number, d: number, k: number, idx: number, dist: number, isNew: number, scratch: number, C: number, maxIters: number, delta: number): number;
  sgdEpoch(epoch: number, edges: number, head: number, tail: number, eps: number, next: number, epsNeg: number, nextNeg: number, emb: number, nVertices: number, dim: number, a: number, b: number, gamma: number, alpha: number): void;
}

const wasmApi = (globalThis as { WebAssembly?: WasmApi }).WebAssembly;
let compiled: object | null | undefined;

function module(): object | null {
  if (compiled !== undefined) return compiled;
  try {
    if (!wasmApi) throw new Error('no WebAssembly');
    const atob = (globalThis as { atob?: (s: string) => string }).atob;
    const bytes = typeof Buffer !== 'undefined' ? Buffer.from(UMAP_WASM_BASE64, 'base64') : Uint8Array.from(atob!(UMAP_WASM_BASE64), (c) => c.charCodeAt(0));
    compiled = new wasmApi.Module(bytes);
  } catch {
    compiled = null; // no WebAssembly or no SIMD
  }
  return compiled;
}

/** A fresh instance whose memory holds at least `bytes` past the module's own data. */
export class WasmArena {
  readonly exports: Exports;
  private top: number;

  constructor(bytes: number) {
    const m = module();
    if (!m) throw new Error('WebAssembly SIMD is not available');
    this.exports = new wasmApi!.Instance(m, {}).exports as Exports;
    this.top = this.exports.heapBase();
    const need = this.top + bytes + 64 * 16;
    const have = this.exports.memory.buffer.byteLength;
    if (need > have) this.exports.memory.grow(Math.ceil((need - have) / 65536));
  }

  /** Byte offset of a fresh 16-byte-aligned block. */
  alloc(bytes: number): number {
    const at = this.top;
    this.top = (this.top + bytes + 15) & ~15;
    return at;
  }

  f64(at: number, length: number): Float64Array {
    return new Float64Array(this.exports.memory.buffer, at, length);
  }

  f32(at: number, length: number): Float32Array {
    return new Float32Array(this.exports.memory.buffer, at, length);
  }

  i32(at: number, length: number): Int32Array {
    return new Int32Array(this.exports.memory.buffer, at, length);
  }
}

/** Whether the WebAssembly kernels can run here (`?umap-wasm=off` tests set this false). */
export function wasmAvailable(): boolean {
  return !disabled && module() !== null;
}

let disabled = false;

export function disableWasm(off: boolean): void {
  disabled = off;
}
