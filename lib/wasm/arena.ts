// QKViz's WebAssembly kernels (wasm/*.ts, AssemblyScript with SIMD; scripts/build-wasm.mjs
// writes each as base64 into lib/wasm/*Wasm.ts, so Next's workers, Node and vitest load them
// the same way, with no asset path). Each WasmArena is its own instance and memory, so
// callers never share state; where WebAssembly SIMD is missing `wasmAvailable()` is false
// and callers use their JavaScript versions, which compute the same thing.

/** The part of the WebAssembly API used here (lib/ compiles without the DOM library). */
interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: unknown };
}

interface BaseExports {
  memory: { buffer: ArrayBuffer; grow(pages: number): number };
  heapBase(): number;
}

const wasmApi = (globalThis as { WebAssembly?: WasmApi }).WebAssembly;
const compiled = new Map<string, object | null>();

function compile(base64: string): object | null {
  if (!compiled.has(base64)) {
    try {
      if (!wasmApi) throw new Error('no WebAssembly');
      const atob = (globalThis as { atob?: (s: string) => string }).atob;
      const bytes = typeof Buffer !== 'undefined' ? Buffer.from(base64, 'base64') : Uint8Array.from(atob!(base64), (c) => c.charCodeAt(0));
      compiled.set(base64, new wasmApi.Module(bytes));
    } catch {
      compiled.set(base64, null); // no WebAssembly or no SIMD
    }
  }
  return compiled.get(base64) ?? null;
}

let disabled = false;

/** Whether this module can run here (tests switch the kernels off with disableWasm). */
export function wasmAvailable(base64: string): boolean {
  return !disabled && compile(base64) !== null;
}

/** Makes every caller take its JavaScript path (tests compare the two). */
export function disableWasm(off: boolean): void {
  disabled = off;
}

/** A fresh instance of a module whose memory holds at least `bytes` past the module's own data. */
export class WasmArena<E extends object> {
  readonly exports: E & BaseExports;
  private top: number;
  private readonly base: number;

  constructor(base64: string, bytes: number) {
    const m = compile(base64);
    if (!m) throw new Error('WebAssembly SIMD is not available');
    this.exports = new wasmApi!.Instance(m, {}).exports as E & BaseExports;
    this.top = this.base = this.exports.heapBase();
    const need = this.top + bytes + 64 * 16;
    const have = this.exports.memory.buffer.byteLength;
    if (need > have) this.exports.memory.grow(Math.ceil((need - have) / 65536));
  }

  /** Bytes this arena can hand out in all. */
  get capacity(): number {
    return this.exports.memory.buffer.byteLength - this.base - 64 * 16;
  }

  /** Forgets every block (their views then alias whatever is allocated next). */
  reset(): void {
    this.top = this.base;
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

/** Bytes for blocks of these sizes, each 16-byte aligned. */
export const arenaBytes = (sizes: readonly number[]) => sizes.reduce((a, b) => a + b + 16, 0);
