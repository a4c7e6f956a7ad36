// UMAP on typed arrays: the algorithm of umap-js 1.4 (fuzzy simplicial set from a kNN
// graph, random initial layout, SGD with negative sampling), step for step and PRNG call
// for PRNG call, so that given the same kNN and seed it returns umap-js's own layout (a
// test checks this) — only without umap-js's Map-based sparse matrices and arrays of
// arrays, which made it take ~20 s for one 10k-point head. The a/b curve comes from
// umap-js itself.
import { findABParams } from 'umap-js/dist/umap';
import { type SeededGenerator, seededGenerator } from '../util/random';
import type { WasmArena } from '../wasm/arena';
import { arenaBytes } from '../wasm/arena';
import { type UmapExports, umapArena, umapWasmAvailable } from './kernels';
import type { Knn } from './knn';

export interface UmapOptions {
  dims: number;
  /** umap-js's defaults, kept unless a caller has a reason. */
  minDist?: number;
  spread?: number;
  /** Epochs; default is umap-js's choice for the point count. */
  nEpochs?: number;
  learningRate?: number;
  negativeSampleRate?: number;
  repulsionStrength?: number;
  /** mulberry32 seed (lib/util/random), inlined in the SGD loop; or any `random`. */
  seed?: number;
  random?: () => number;
  /** Starting layout [n][dims] (e.g. PCA scaled to ±10); default uniform in ±10 as umap-js. */
  init?: Float64Array;
}

/** umap-js's schedule: fewer epochs for larger graphs. */
export function defaultEpochs(n: number): number {
  return n <= 2500 ? 500 : n <= 5000 ? 400 : n <= 7500 ? 300 : 200;
}

const SMOOTH_K_TOLERANCE = 1e-5;
const MIN_K_DIST_SCALE = 1e-3;
const SMOOTH_K_ITERATIONS = 64;
const CLIP = 4;

interface Graph {
  /** Edges in (row, col) order: tail = row, head = col, as umap-js lays them out. */
  head: Int32Array;
  tail: Int32Array;
  weight: Float64Array;
}

/** The symmetric fuzzy simplicial set (set_op_mix_ratio 1: a + aᵀ − a∘aᵀ) of a kNN graph. */
export function fuzzySimplicialSet(knn: Knn): { rows: Int32Array; cols: Int32Array; vals: Float64Array } {
  const { n, k, indices, distances } = knn;
  const target = Math.log2(k);
  const sigmas = new Float64Array(n);
  const rhos = new Float64Array(n);
  let meanOfMeans = 0;
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let j = 0; j < k; j++) s += distances[i * k + j];
    meanOfMeans += s / k / n;
  }
  for (let i = 0; i < n; i++) {
    const base = i * k;
    let rho = 0;
    for (let j = 0; j < k; j++) {
      if (distances[base + j] > 0) {
        rho = distances[base + j];
        break;
      }
    }
    rhos[i] = rho;
    let lo = 0;
    let hi = Infinity;
    let mid = 1;
    for (let it = 0; it < SMOOTH_K_ITERATIONS; it++) {
      let psum = 0;
      for (let j = 1; j < k; j++) {
        const d = distances[base + j] - rho;
        psum += d > 0 ? Math.exp(-(d / mid)) : 1;
      }
      if (Math.abs(psum - target) < SMOOTH_K_TOLERANCE) break;
      if (psum > target) {
        hi = mid;
        mid = (lo + hi) / 2;
      } else {
        lo = mid;
        mid = hi === Infinity ? mid * 2 : (lo + hi) / 2;
      }
    }
    let sigma = mid;
    if (rho > 0) {
      let mean = 0;
      for (let j = 0; j < k; j++) mean += distances[base + j];
      mean /= k;
      if (sigma < MIN_K_DIST_SCALE * mean) sigma = MIN_K_DIST_SCALE * mean;
    } else if (sigma < MIN_K_DIST_SCALE * meanOfMeans) sigma = MIN_K_DIST_SCALE * meanOfMeans;
    sigmas[i] = sigma;
  }
  // Directed memberships, then per row the union with the transpose's row (a counting
  // transpose), sorted by column: the fuzzy union a + b − a·b (a missing entry counts 0),
  // in the (row, col) order umap-js's sparse matrices give.
  const value = new Float64Array(n * k);
  const inDegree = new Int32Array(n + 1);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < k; j++) {
      const c = indices[i * k + j];
      if (c < 0) continue;
      const d = distances[i * k + j];
      value[i * k + j] = c === i ? 0 : d - rhos[i] <= 0 ? 1 : Math.exp(-((d - rhos[i]) / sigmas[i]));
      inDegree[c + 1]++;
    }
  }
  for (let i = 0; i < n; i++) inDegree[i + 1] += inDegree[i];
  const tFrom = new Int32Array(inDegree[n]);
  const tValue = new Float64Array(inDegree[n]);
  const fill = inDegree.slice(0, n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < k; j++) {
      const c = indices[i * k + j];
      if (c < 0) continue;
      tFrom[fill[c]] = i;
      tValue[fill[c]++] = value[i * k + j];
    }
  }
  const rows = new Int32Array(2 * inDegree[n]);
  const cols = new Int32Array(2 * inDegree[n]);
  const vals = new Float64Array(2 * inDegree[n]);
  const rowCol = new Int32Array(k + n);
  const rowA = new Float64Array(k + n);
  const rowB = new Float64Array(k + n);
  let out = 0;
  for (let r = 0; r < n; r++) {
    let m = 0;
    for (let j = 0; j < k; j++) {
      const c = indices[r * k + j];
      if (c < 0) continue;
      rowCol[m] = c;
      rowA[m] = value[r * k + j];
      rowB[m++] = 0;
    }
    for (let t = inDegree[r]; t < inDegree[r + 1]; t++) {
      rowCol[m] = tFrom[t];
      rowA[m] = 0;
      rowB[m++] = tValue[t];
    }
    // insertion sort by column (rows hold ~2k entries)
    for (let x = 1; x < m; x++) {
      const c = rowCol[x];
      const va = rowA[x];
      const vb = rowB[x];
      let y = x - 1;
      while (y >= 0 && rowCol[y] > c) {
        rowCol[y + 1] = rowCol[y];
        rowA[y + 1] = rowA[y];
        rowB[y + 1] = rowB[y];
        y--;
      }
      rowCol[y + 1] = c;
      rowA[y + 1] = va;
      rowB[y + 1] = vb;
    }
    for (let x = 0; x < m;) {
      const c = rowCol[x];
      let va = 0;
      let vb = 0;
      for (; x < m && rowCol[x] === c; x++) {
        va += rowA[x];
        vb += rowB[x];
      }
      rows[out] = r;
      cols[out] = c;
      vals[out++] = va + vb - va * vb;
    }
  }
  return { rows: rows.subarray(0, out), cols: cols.subarray(0, out), vals: vals.subarray(0, out) };
}

function edgesFor(set: ReturnType<typeof fuzzySimplicialSet>, nEpochs: number): Graph {
  let max = 0;
  for (const v of set.vals) if (v > max) max = v;
  let kept = 0;
  const keep = (v: number) => !(v < max / nEpochs) && v !== 0;
  for (const v of set.vals) if (keep(v)) kept++;
  const graph: Graph = { head: new Int32Array(kept), tail: new Int32Array(kept), weight: new Float64Array(kept) };
  let e = 0;
  for (let s = 0; s < set.vals.length; s++) {
    if (!keep(set.vals[s])) continue;
    graph.head[e] = set.cols[s];
    graph.tail[e] = set.rows[s];
    graph.weight[e++] = set.vals[s];
  }
  return graph;
}

/** umap-js's a/b curve fit, once per (spread, min_dist). */
const abCache = new Map<string, { a: number; b: number }>();

function abParams(spread: number, minDist: number): { a: number; b: number } {
  const key = `${spread} ${minDist}`;
  if (!abCache.has(key)) abCache.set(key, findABParams(spread, minDist));
  return abCache.get(key)!;
}

/** A UMAP run over one head, advanced an epoch at a time so a worker can report and cancel. */
export class UmapLayout {
  readonly nEpochs: number;
  /** The layout so far, [n][dims]; lives in the WebAssembly memory on that path. */
  readonly embedding: Float64Array;
  private epoch = 0;
  private wasm:
    { arena: WasmArena<UmapExports>; head: number; tail: number; eps: number; next: number; epsNeg: number; nextNeg: number; emb: number } | undefined;
  private graph: Graph;
  private epochsPerSample: Float64Array;
  private epochOfNextSample: Float64Array;
  private epochsPerNegativeSample: Float64Array;
  private epochOfNextNegativeSample: Float64Array;
  private a: number;
  private b: number;
  private alpha: number;
  /** mulberry32 when seeded (its state hands the sequence on to the WebAssembly epochs). */
  private generator: SeededGenerator | undefined;
  private random: () => number;

  constructor(
    knn: Knn,
    private options: UmapOptions,
  ) {
    const n = knn.n;
    this.nEpochs = options.nEpochs ?? defaultEpochs(n);
    this.graph = edgesFor(fuzzySimplicialSet(knn), this.nEpochs);
    const dims = options.dims;
    this.embedding = new Float64Array(n * dims);
    if (options.seed !== undefined) {
      this.generator = seededGenerator(options.seed);
      this.random = this.generator.next;
    } else if (options.random) this.random = options.random;
    else throw new Error('UmapLayout needs a seed or a random source');
    if (options.init) this.embedding.set(options.init);
    else for (let i = 0; i < n * dims; i++) this.embedding[i] = this.random() * 20 + -10;
    let maxWeight = 0;
    for (const w of this.graph.weight) if (w > maxWeight) maxWeight = w;
    const edges = this.graph.weight.length;
    this.epochsPerSample = new Float64Array(edges).fill(-1);
    for (let e = 0; e < edges; e++) {
      const samples = (this.graph.weight[e] / maxWeight) * this.nEpochs;
      if (samples > 0) this.epochsPerSample[e] = this.nEpochs / samples;
    }
    const rate = options.negativeSampleRate ?? 5;
    this.epochsPerNegativeSample = this.epochsPerSample.map((e) => e / rate);
    this.epochOfNextNegativeSample = Float64Array.from(this.epochsPerNegativeSample);
    this.epochOfNextSample = Float64Array.from(this.epochsPerSample);
    const ab = abParams(options.spread ?? 1, options.minDist ?? 0.1);
    this.a = ab.a;
    this.b = ab.b;
    this.alpha = options.learningRate ?? 1;
    if (this.generator && umapWasmAvailable()) this.wasm = this.toWasm(this.generator.state);
  }

  /** Copies the graph, schedules and layout into a WebAssembly instance; the layout is then a view of it. */
  private toWasm(seedState: number): NonNullable<UmapLayout['wasm']> {
    const edges = this.graph.head.length;
    const sizes = [edges * 4, edges * 4, edges * 8, edges * 8, edges * 8, edges * 8, this.embedding.length * 8];
    const arena = umapArena(arenaBytes(sizes));
    const [head, tail, eps, next, epsNeg, nextNeg, emb] = sizes.map((b) => arena.alloc(b));
    arena.i32(head, edges).set(this.graph.head);
    arena.i32(tail, edges).set(this.graph.tail);
    arena.f64(eps, edges).set(this.epochsPerSample);
    arena.f64(next, edges).set(this.epochOfNextSample);
    arena.f64(epsNeg, edges).set(this.epochsPerNegativeSample);
    arena.f64(nextNeg, edges).set(this.epochOfNextNegativeSample);
    const view = arena.f64(emb, this.embedding.length);
    view.set(this.embedding);
    (this as { embedding: Float64Array }).embedding = view;
    arena.exports.setSeed(seedState);
    return { arena, head, tail, eps, next, epsNeg, nextNeg, emb };
  }

  get done(): boolean {
    return this.epoch >= this.nEpochs;
  }

  get currentEpoch(): number {
    return this.epoch;
  }

  /**
   * One epoch of SGD, umap-js's optimizeLayoutStep: in WebAssembly when seeded and
   * available (the same updates, order and PRNG draws; the gradient coefficients from tables
   * of d², within 2e-6), else here.
   */
  step(): void {
    if (this.done) return;
    const w = this.wasm;
    if (w)
      w.arena.exports.sgdEpoch(
        this.epoch,
        this.graph.head.length,
        w.head,
        w.tail,
        w.eps,
        w.next,
        w.epsNeg,
        w.nextNeg,
        w.emb,
        this.embedding.length / this.options.dims,
        this.options.dims,
        this.a,
        this.b,
        this.options.repulsionStrength ?? 1,
        this.alpha,
      );
    else this.stepJs();
    this.alpha = (this.options.learningRate ?? 1) * (1.0 - this.epoch / this.nEpochs);
    this.epoch++;
  }

  /** One epoch of SGD in JavaScript, exactly as umap-js's optimizeLayoutStep. */
  private stepJs(): void {
    const n = this.epoch;
    const { head, tail } = this.graph;
    const { a, b, alpha } = this;
    const dim = this.options.dims;
    const gamma = this.options.repulsionStrength ?? 1;
    const emb = this.embedding;
    const nVertices = emb.length / dim;
    const random = this.random;
    const eps = this.epochsPerSample;
    const next = this.epochOfNextSample;
    const epsNeg = this.epochsPerNegativeSample;
    const nextNeg = this.epochOfNextNegativeSample;
    for (let i = 0; i < eps.length; i++) {
      if (next[i] > n) continue;
      const j = head[i] * dim;
      const k = tail[i] * dim;
      let distSquared = 0;
      for (let d = 0; d < dim; d++) {
        const t = emb[j + d] - emb[k + d];
        distSquared += t * t;
      }
      let gradCoeff = 0;
      if (distSquared > 0) {
        gradCoeff = -2.0 * a * b * Math.pow(distSquared, b - 1.0);
        gradCoeff /= a * Math.pow(distSquared, b) + 1.0;
      }
      for (let d = 0; d < dim; d++) {
        let grad = gradCoeff * (emb[j + d] - emb[k + d]);
        grad = grad > CLIP ? CLIP : grad < -CLIP ? -CLIP : grad;
        emb[j + d] += grad * alpha;
        emb[k + d] += -grad * alpha;
      }
      next[i] += eps[i];
      const negatives = Math.floor((n - nextNeg[i]) / epsNeg[i]);
      for (let p = 0; p < negatives; p++) {
        const other = Math.floor(random() * nVertices);
        const o = other * dim;
        let dist2 = 0;
        for (let d = 0; d < dim; d++) {
          const t = emb[j + d] - emb[o + d];
          dist2 += t * t;
        }
        let coeff = 0;
        if (dist2 > 0) {
          coeff = 2.0 * gamma * b;
          coeff /= (0.001 + dist2) * (a * Math.pow(dist2, b) + 1);
        } else if (head[i] === other) continue;
        for (let d = 0; d < dim; d++) {
          let grad = 4.0;
          if (coeff > 0) {
            grad = coeff * (emb[j + d] - emb[o + d]);
            grad = grad > CLIP ? CLIP : grad < -CLIP ? -CLIP : grad;
          }
          emb[j + d] += grad * alpha;
        }
      }
      nextNeg[i] += negatives * epsNeg[i];
    }
  }

  run(): Float64Array {
    while (!this.done) this.step();
    return this.embedding;
  }
}
