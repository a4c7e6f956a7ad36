// UMAP on typed arrays: the algorithm of umap-js 1.4 (fuzzy simplicial set from a kNN
// graph, random initial layout, SGD with negative sampling), step for step and PRNG call
// for PRNG call, so that given the same kNN and seed it returns umap-js's own layout (a
// test checks this) — only without umap-js's Map-based sparse matrices and arrays of
// arrays, which made it take ~20 s for one 10k-point head. The a/b curve comes from
// umap-js itself.
import { findABParams } from 'umap-js/dist/umap';
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
  random: () => number;
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
  // Directed memberships as sorted (row * n + col) keys, the same for the transpose, then a
  // merge of the two sorted lists: the fuzzy union a + b − a·b (a missing entry counts 0).
  const m = n * k;
  const fKeys = new Float64Array(m);
  const tKeys = new Float64Array(m);
  const value = new Float64Array(m);
  let used = 0;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < k; j++) {
      const c = indices[i * k + j];
      if (c < 0) continue;
      const d = distances[i * k + j];
      value[used] = c === i ? 0 : d - rhos[i] <= 0 ? 1 : Math.exp(-((d - rhos[i]) / sigmas[i]));
      fKeys[used] = i * n + c;
      tKeys[used] = c * n + i;
      used++;
    }
  }
  const byKey = (keys: Float64Array) => Int32Array.from({ length: used }, (_, e) => e).sort((a, b) => keys[a] - keys[b]);
  const fo = byKey(fKeys);
  const to = byKey(tKeys);
  const rows = new Int32Array(2 * used);
  const cols = new Int32Array(2 * used);
  const vals = new Float64Array(2 * used);
  let out = 0;
  let a = 0;
  let b = 0;
  while (a < used || b < used) {
    const ka = a < used ? fKeys[fo[a]] : Infinity;
    const kb = b < used ? tKeys[to[b]] : Infinity;
    const key = Math.min(ka, kb);
    const va = ka === key ? value[fo[a++]] : 0;
    const vb = kb === key ? value[to[b++]] : 0;
    rows[out] = Math.floor(key / n);
    cols[out] = key % n;
    vals[out] = va + vb - va * vb;
    out++;
  }
  return { rows: rows.subarray(0, out), cols: cols.subarray(0, out), vals: vals.subarray(0, out) };
}


function edgesFor(set: ReturnType<typeof fuzzySimplicialSet>, nEpochs: number): Graph {
  let max = 0;
  for (const v of set.vals) if (v > max) max = v;
  const keep: number[] = [];
  for (let e = 0; e < set.vals.length; e++) if (!(set.vals[e] < max / nEpochs) && set.vals[e]) keep.push(e);
  return {
    head: Int32Array.from(keep, (e) => set.cols[e]),
    tail: Int32Array.from(keep, (e) => set.rows[e]),
    weight: Float64Array.from(keep, (e) => set.vals[e]),
  };
}

/** A UMAP run over one head, advanced an epoch at a time so a worker can report and cancel. */
export class UmapLayout {
  readonly nEpochs: number;
  readonly embedding: Float64Array;
  private epoch = 0;
  private graph: Graph;
  private epochsPerSample: Float64Array;
  private epochOfNextSample: Float64Array;
  private epochsPerNegativeSample: Float64Array;
  private epochOfNextNegativeSample: Float64Array;
  private a: number;
  private b: number;
  private alpha: number;

  constructor(
    knn: Knn,
    private options: UmapOptions,
  ) {
    const n = knn.n;
    this.nEpochs = options.nEpochs ?? defaultEpochs(n);
    this.graph = edgesFor(fuzzySimplicialSet(knn), this.nEpochs);
    const dims = options.dims;
    this.embedding = new Float64Array(n * dims);
    for (let i = 0; i < n * dims; i++) this.embedding[i] = options.random() * 20 + -10;
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
    const ab = findABParams(options.spread ?? 1, options.minDist ?? 0.1);
    this.a = ab.a;
    this.b = ab.b;
    this.alpha = options.learningRate ?? 1;
  }

  get done(): boolean {
    return this.epoch >= this.nEpochs;
  }

  get currentEpoch(): number {
    return this.epoch;
  }

  /** One epoch of SGD, exactly as umap-js's optimizeLayoutStep. */
  step(): void {
    if (this.done) return;
    const n = this.epoch;
    const { head, tail } = this.graph;
    const { a, b, alpha } = this;
    const dim = this.options.dims;
    const gamma = this.options.repulsionStrength ?? 1;
    const emb = this.embedding;
    const nVertices = emb.length / dim;
    const random = this.options.random;
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
    this.alpha = (this.options.learningRate ?? 1) * (1.0 - n / this.nEpochs);
    this.epoch++;
  }

  run(): Float64Array {
    while (!this.done) this.step();
    return this.embedding;
  }
}
