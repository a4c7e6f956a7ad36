// UMAP's two hot loops in WebAssembly (wasm/umap.ts): NN-descent kNN and an SGD epoch.
import { WasmArena, wasmAvailable } from '../wasm/arena';
import { UMAP_WASM_BASE64 } from '../wasm/umapWasm';

export interface UmapExports {
  setSeed(seed: number): void;
  /** The SGD's x^b, exported so a test can compare it with Math.pow. */
  powForTest(x: number, b: number): number;
  /** The SGD's tabulated coefficient at d² (which 0: attracting, 1: repelling). */
  coefficientForTest(d2: number, a: number, b: number, gamma: number, which: number): number;
  nnDescent(
    x: number,
    n: number,
    d: number,
    k: number,
    idx: number,
    dist: number,
    isNew: number,
    scratch: number,
    C: number,
    maxIters: number,
    delta: number,
  ): number;
  sgdEpoch(
    epoch: number,
    edges: number,
    head: number,
    tail: number,
    eps: number,
    next: number,
    epsNeg: number,
    nextNeg: number,
    emb: number,
    nVertices: number,
    dim: number,
    a: number,
    b: number,
    gamma: number,
    alpha: number,
  ): void;
}

export const umapWasmAvailable = (): boolean => wasmAvailable(UMAP_WASM_BASE64);

export const umapArena = (bytes: number): WasmArena<UmapExports> => new WasmArena<UmapExports>(UMAP_WASM_BASE64, bytes);
