// Running sums of a set of d-dimensional rows — their count, Σx and Σxxᵀ — summed in
// WebAssembly (wasm/pca.ts) where it runs: a head's raw queries and keys give every PCA view
// of it (lib/projection/pcaMoments.ts), and sums from windows or shards add up exactly.
import { PCA_WASM_BASE64 } from '../wasm/pcaWasm';
import { WasmArena, arenaBytes, wasmAvailable } from '../wasm/arena';

interface MomentExports {
  moments(x: number, n: number, d: number, sum: number, row: number, out: number): void;
}

/** One WebAssembly instance per thread, grown to the largest block of rows seen. */
let arena: WasmArena<MomentExports> | undefined;
function kernels(bytes: number): WasmArena<MomentExports> | undefined {
  if (!wasmAvailable(PCA_WASM_BASE64)) return undefined;
  if (!arena || arena.capacity < bytes) arena = new WasmArena<MomentExports>(PCA_WASM_BASE64, bytes);
  arena.reset();
  return arena;
}

/** Running sums of a set of d-dimensional rows: their count, Σx and Σxxᵀ (upper triangle and diagonal; below it unused). */
export class Moments {
  n = 0;
  readonly sum: Float64Array;
  readonly outer: Float64Array;

  constructor(readonly d: number) {
    this.sum = new Float64Array(d);
    this.outer = new Float64Array(d * d);
  }

  /** Adds [rows][d] vectors. */
  add(rows: Float32Array): void {
    const { d } = this;
    const n = rows.length / d;
    if (!n) return;
    const k = kernels(arenaBytes([rows.byteLength, d * 8, d * 8, d * d * 8]));
    if (k) {
      const [x, sum, row, out] = [k.alloc(rows.byteLength), k.alloc(d * 8), k.alloc(d * 8), k.alloc(d * d * 8)];
      k.f32(x, rows.length).set(rows);
      k.f64(sum, d).set(this.sum);
      k.f64(out, d * d).set(this.outer);
      k.exports.moments(x, n, d, sum, row, out);
      this.sum.set(k.f64(sum, d));
      this.outer.set(k.f64(out, d * d));
    } else {
      for (let i = 0; i < n; i++) {
        const o = i * d;
        for (let p = 0; p < d; p++) {
          const xp = rows[o + p];
          this.sum[p] += xp;
          for (let q = p; q < d; q++) this.outer[p * d + q] += xp * rows[o + q];
        }
      }
    }
    this.n += n;
  }

  /** Adds another set's sums (a shard's, or another window's). */
  merge(other: Moments): void {
    this.n += other.n;
    for (let i = 0; i < this.sum.length; i++) this.sum[i] += other.sum[i];
    for (let i = 0; i < this.outer.length; i++) this.outer[i] += other.outer[i];
  }
}
