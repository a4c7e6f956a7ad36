// The pair passes in WebAssembly (wasm/analysis.ts): one head's arrays laid out in an
// instance's memory once, the kernels called with their byte offsets. The memory a finished
// head leaves is reused by the next when large enough (HeadPairs.release).
import type { AttentionSpec } from '../data/attention';
import { ANALYSIS_WASM_BASE64 } from '../wasm/analysisWasm';
import { WasmArena, arenaBytes, wasmAvailable } from '../wasm/arena';
import type { FigureSums, PairArrays, PairSums } from './pairsJs';

interface AnalysisExports {
  pairAttention(
    S: number,
    starts: number,
    blocks: number,
    q: number,
    k: number,
    dim: number,
    qa: number,
    ka: number,
    dimA: number,
    att: number,
    qk: number,
    keyWeight: number,
    rowWeight: number,
    argmaxKey: number,
    n: number,
    scale: number,
    cap: number,
    window: number,
    causal: number,
    logits: number,
    out: number,
  ): void;
  tokenSums(n: number, q: number, k: number, dim: number, rowWeight: number, keyWeight: number, sRq: number, sWk: number, out: number): void;
  figuresPass(
    S: number,
    starts: number,
    blocks: number,
    qk: number,
    att: number,
    keyTerm: number,
    qq: number,
    qt: number,
    argmaxKey: number,
    randomKey: number,
    qkRandom: number,
    c2: number,
    minKeys: number,
    causal: number,
    out: number,
  ): void;
}

type Block =
  | 'q'
  | 'k'
  | 'qa'
  | 'ka'
  | 'att'
  | 'qk'
  | 'keyWeight'
  | 'rowWeight'
  | 'argmaxKey'
  | 'starts'
  | 'blocks'
  | 'scratch'
  | 'out'
  | 'keyTerm'
  | 'qq'
  | 'qt'
  | 'randomKey'
  | 'qkRandom'
  | 'sRq'
  | 'sWk';

export const pairsWasmAvailable = (): boolean => wasmAvailable(ANALYSIS_WASM_BASE64);

/** An arena a finished head gave back, reused by the next if it is large enough. */
let spare: WasmArena<AnalysisExports> | undefined;

/** Drops the WebAssembly memory finished heads left for the next (an analysis calls this when done). */
export function releasePairsMemory(): void {
  spare = undefined;
}

export class PairsMemory {
  private readonly arena: WasmArena<AnalysisExports>;
  private readonly at: Record<Block, number>;
  private readonly sentences: number;
  private readonly sameVectors: boolean;
  readonly arrays: PairArrays;

  constructor(
    q: Float32Array,
    k: Float32Array,
    qa: Float32Array,
    ka: Float32Array,
    dim: number,
    dimA: number,
    sentenceStarts: Int32Array,
    pairStarts: Int32Array,
    causal: boolean,
  ) {
    const tokens = sentenceStarts[sentenceStarts.length - 1];
    const pairs = pairStarts[pairStarts.length - 1];
    let longest = 0;
    for (let s = 0; s + 1 < sentenceStarts.length; s++) longest = Math.max(longest, sentenceStarts[s + 1] - sentenceStarts[s]);
    this.sameVectors = qa === q && ka === k;
    const sizes: Record<Block, number> = {
      q: q.byteLength,
      k: k.byteLength,
      qa: this.sameVectors ? 0 : qa.byteLength,
      ka: this.sameVectors ? 0 : ka.byteLength,
      att: pairs * 4,
      qk: pairs * 8,
      keyWeight: tokens * 8,
      rowWeight: tokens * 8,
      argmaxKey: tokens * 4,
      starts: sentenceStarts.byteLength,
      blocks: pairStarts.byteLength,
      scratch: Math.max(1, longest) * 8,
      out: 8 * 8,
      keyTerm: tokens * 8,
      qq: tokens * 8,
      qt: tokens * 8,
      randomKey: tokens * 4,
      qkRandom: tokens * 8,
      sRq: dim * 8,
      sWk: dim * 8,
    };
    const bytes = arenaBytes(Object.values(sizes));
    const reuse = spare && spare.capacity >= bytes ? spare : undefined;
    spare = undefined;
    reuse?.reset();
    this.arena = reuse ?? new WasmArena<AnalysisExports>(ANALYSIS_WASM_BASE64, bytes);
    this.at = Object.fromEntries(Object.entries(sizes).map(([name, size]) => [name, this.arena.alloc(size)])) as Record<Block, number>;
    if (this.sameVectors) {
      this.at.qa = this.at.q;
      this.at.ka = this.at.k;
    }
    const { arena, at } = this;
    arena.f32(at.q, q.length).set(q);
    arena.f32(at.k, k.length).set(k);
    if (!this.sameVectors) {
      arena.f32(at.qa, qa.length).set(qa);
      arena.f32(at.ka, ka.length).set(ka);
    }
    arena.i32(at.starts, sentenceStarts.length).set(sentenceStarts);
    arena.i32(at.blocks, pairStarts.length).set(pairStarts);
    this.sentences = sentenceStarts.length - 1;
    const qView = arena.f32(at.q, q.length);
    const kView = arena.f32(at.k, k.length);
    this.arrays = {
      q: qView,
      k: kView,
      qa: this.sameVectors ? qView : arena.f32(at.qa, qa.length),
      ka: this.sameVectors ? kView : arena.f32(at.ka, ka.length),
      dim,
      dimA,
      sentenceStarts: arena.i32(at.starts, sentenceStarts.length),
      pairStarts: arena.i32(at.blocks, pairStarts.length),
      qk: arena.f64(at.qk, pairs),
      att: arena.f32(at.att, pairs),
      keyWeight: arena.f64(at.keyWeight, tokens),
      rowWeight: arena.f64(at.rowWeight, tokens),
      argmaxKey: arena.i32(at.argmaxKey, tokens),
      causal,
    };
  }

  /** Per-token scratch arrays of the figures pass, in this memory. */
  f64(name: 'keyTerm' | 'qq' | 'qt' | 'qkRandom', length: number): Float64Array {
    return this.arena.f64(this.at[name], length);
  }

  i32(name: 'randomKey', length: number): Int32Array {
    return this.arena.i32(this.at[name], length);
  }

  private out(): Float64Array {
    return this.arena.f64(this.at.out, 8);
  }

  pairAttention(spec: AttentionSpec): PairSums {
    const { arena, at, arrays } = this;
    const n = arrays.rowWeight.length;
    arena.exports.pairAttention(
      this.sentences,
      at.starts,
      at.blocks,
      at.q,
      at.k,
      arrays.dim,
      at.qa,
      at.ka,
      arrays.dimA,
      at.att,
      at.qk,
      at.keyWeight,
      at.rowWeight,
      at.argmaxKey,
      n,
      spec.scale,
      spec.softcap ?? 0,
      spec.window ?? 0,
      arrays.causal ? 1 : 0,
      at.scratch,
      at.out,
    );
    const [attendedDot, entropy, special] = this.out();
    return { attendedDot, entropy, special };
  }

  /** HeadSums' per-token sums (after pairAttention): Σ‖q‖², Σ R‖q‖², Σ‖k‖², Σ W‖k‖², Σ‖q‖, Σ R·q, Σ W·k. */
  tokenSums(): { qq: number; qqR: number; kk: number; kkW: number; qNorm: number; sRq: Float64Array; sWk: Float64Array } {
    const { arena, at, arrays } = this;
    const n = arrays.rowWeight.length;
    arena.exports.tokenSums(n, at.q, at.k, arrays.dim, at.rowWeight, at.keyWeight, at.sRq, at.sWk, at.out);
    const [qq, qqR, kk, kkW, qNorm] = this.out();
    return { qq, qqR, kk, kkW, qNorm, sRq: arena.f64(at.sRq, arrays.dim), sWk: arena.f64(at.sWk, arrays.dim) };
  }

  figuresPass(c2: number, minKeys: number): FigureSums {
    const { arena, at } = this;
    arena.exports.figuresPass(
      this.sentences,
      at.starts,
      at.blocks,
      at.qk,
      at.att,
      at.keyTerm,
      at.qq,
      at.qt,
      at.argmaxKey,
      at.randomKey,
      at.qkRandom,
      c2,
      minKeys,
      this.arrays.causal ? 1 : 0,
      at.out,
    );
    const [weighted, argmax, random, sumPlain, sumWeighted, count] = this.out();
    return { weighted, argmax, random, sumPlain, sumWeighted, count };
  }

  /** Hands this memory to the next head: its views must not be read afterwards. */
  release(): void {
    spare = this.arena;
  }
}
