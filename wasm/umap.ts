// AssemblyScript source of QKViz's UMAP kernels (compiled by scripts/build-wasm.mjs into
// lib/projection/umapWasm.ts): NN-descent kNN with f32 SIMD distances, and one SGD epoch.
// Both do what lib/projection/knn.ts and umap.ts do in JavaScript, step for step and PRNG
// draw for PRNG draw (mulberry32); the caller lays out every array in this module's memory
// and passes byte offsets. No allocator, no runtime: plain loads and stores.

import { fastPow } from './fastmath';

// ---- mulberry32 (lib/util/random.ts), its state in a global ----
let rngState: u32 = 0;

export function setSeed(seed: u32): void {
  rngState = seed;
}

@inline
function random(): f64 {
  rngState = rngState + 0x6d2b79f5;
  let t: u32 = rngState;
  t = (t ^ (t >> 15)) * (t | 1);
  t ^= t + (t ^ (t >> 7)) * (t | 61);
  return <f64>(t ^ (t >> 14)) / 4294967296.0;
}

// ---- squared Euclidean distance between rows i and j of an [n][d] f32 array ----
@inline
function squaredDistance(x: usize, i: i32, j: i32, d: i32): f64 {
  const a = x + (<usize>i * <usize>d << 2);
  const b = x + (<usize>j * <usize>d << 2);
  let acc = f32x4.splat(0);
  let c = 0;
  for (; c + 4 <= d; c += 4) {
    const t = f32x4.sub(v128.load(a + (<usize>c << 2)), v128.load(b + (<usize>c << 2)));
    acc = f32x4.add(acc, f32x4.mul(t, t));
  }
  let s: f64 = <f64>f32x4.extract_lane(acc, 0) + <f64>f32x4.extract_lane(acc, 1) + <f64>f32x4.extract_lane(acc, 2) + <f64>f32x4.extract_lane(acc, 3);
  for (; c < d; c++) {
    const t: f64 = <f64>load<f32>(a + (<usize>c << 2)) - <f64>load<f32>(b + (<usize>c << 2));
    s += t * t;
  }
  return s;
}

// ---- NN-descent (Dong et al. 2011) ----
let gIdx: usize = 0; // i32 [n][k]
let gDist: usize = 0; // f64 [n][k]
let gNew: usize = 0; // u8 [n][k]
let gK: i32 = 0;

/** Inserts j into i's sorted row; returns 1 if the row changed. */
@inline
function push(i: i32, j: i32, dij: f64): i32 {
  const k = gK;
  const base = <usize>i * <usize>k;
  if (dij >= load<f64>(gDist + ((base + <usize>(k - 1)) << 3))) return 0;
  for (let m = 0; m < k; m++) if (load<i32>(gIdx + ((base + <usize>m) << 2)) == j) return 0;
  let m = k - 1;
  while (m > 0 && load<f64>(gDist + ((base + <usize>(m - 1)) << 3)) > dij) {
    store<f64>(gDist + ((base + <usize>m) << 3), load<f64>(gDist + ((base + <usize>(m - 1)) << 3)));
    store<i32>(gIdx + ((base + <usize>m) << 2), load<i32>(gIdx + ((base + <usize>(m - 1)) << 2)));
    store<u8>(gNew + base + <usize>m, load<u8>(gNew + base + <usize>(m - 1)));
    m--;
  }
  store<f64>(gDist + ((base + <usize>m) << 3), dij);
  store<i32>(gIdx + ((base + <usize>m) << 2), j);
  store<u8>(gNew + base + <usize>m, 1);
  return 1;
}

/** Reservoir sampling keeps each candidate list to C entries, uniformly. */
@inline
function offer(list: usize, count: usize, seen: usize, C: i32, i: i32, j: i32): void {
  const c = load<i32>(count + (<usize>i << 2));
  const base = list + ((<usize>i * <usize>C) << 2);
  const kept = c < C ? c : C;
  for (let m = 0; m < kept; m++) if (load<i32>(base + (<usize>m << 2)) == j) return;
  const s = load<i32>(seen + (<usize>i << 2));
  store<i32>(seen + (<usize>i << 2), s + 1);
  if (c < C) {
    store<i32>(base + (<usize>c << 2), j);
    store<i32>(count + (<usize>i << 2), c + 1);
  } else {
    const r = <i32>Math.floor(random() * <f64>(s + 1));
    if (r < C) store<i32>(base + (<usize>r << 2), j);
  }
}

/**
 * kNN by NN-descent of the [n][d] f32 rows at x. Writes indices (i32) and squared
 * distances (f64, self first at −1) into idx/dist; scratch needs 4 · n · (2C + 4) bytes.
 */
export function nnDescent(x: usize, n: i32, d: i32, k: i32, idx: usize, dist: usize, isNew: usize, scratch: usize, C: i32, maxIters: i32, delta: f64): i32 {
  gIdx = idx;
  gDist = dist;
  gNew = isNew;
  gK = k;
  const nk = <usize>n * <usize>k;
  for (let e: usize = 0; e < nk; e++) {
    store<i32>(idx + (e << 2), -1);
    store<f64>(dist + (e << 3), Infinity);
    store<u8>(isNew + e, 0);
  }
  for (let i = 0; i < n; i++) {
    push(i, i, -1);
    store<u8>(isNew + <usize>i * <usize>k, 0);
    for (let tries = 0; tries < 3 * k && load<i32>(idx + ((<usize>i * <usize>k + <usize>(k - 1)) << 2)) < 0; tries++) {
      const j = <i32>Math.floor(random() * <f64>n);
      if (j != i) push(i, j, squaredDistance(x, i, j, d));
    }
  }
  const newCand = scratch;
  const oldCand = newCand + ((<usize>n * <usize>C) << 2);
  const newCount = oldCand + ((<usize>n * <usize>C) << 2);
  const oldCount = newCount + (<usize>n << 2);
  const newSeen = oldCount + (<usize>n << 2);
  const oldSeen = newSeen + (<usize>n << 2);
  let iter = 0;
  for (; iter < maxIters; iter++) {
    memory.fill(newCount, 0, <usize>n << 4);
    for (let i = 0; i < n; i++) {
      for (let m = 1; m < k; m++) {
        const e = <usize>i * <usize>k + <usize>m;
        const j = load<i32>(idx + (e << 2));
        if (j < 0) continue;
        if (load<u8>(isNew + e)) {
          offer(newCand, newCount, newSeen, C, i, j);
          offer(newCand, newCount, newSeen, C, j, i);
          store<u8>(isNew + e, 0);
        } else {
          offer(oldCand, oldCount, oldSeen, C, i, j);
          offer(oldCand, oldCount, oldSeen, C, j, i);
        }
      }
    }
    let updates = 0;
    for (let u = 0; u < n; u++) {
      const nnew = min(load<i32>(newCount + (<usize>u << 2)), C);
      const nold = min(load<i32>(oldCount + (<usize>u << 2)), C);
      const nb = newCand + ((<usize>u * <usize>C) << 2);
      const ob = oldCand + ((<usize>u * <usize>C) << 2);
      for (let a = 0; a < nnew; a++) {
        const p = load<i32>(nb + (<usize>a << 2));
        for (let b = a + 1; b < nnew; b++) {
          const q = load<i32>(nb + (<usize>b << 2));
          const dpq = squaredDistance(x, p, q, d);
          updates += push(p, q, dpq) + push(q, p, dpq);
        }
        for (let b = 0; b < nold; b++) {
          const q = load<i32>(ob + (<usize>b << 2));
          if (q == p) continue;
          const dpq = squaredDistance(x, p, q, d);
          updates += push(p, q, dpq) + push(q, p, dpq);
        }
      }
    }
    if (<f64>updates <= delta * <f64>n * <f64>k) {
      iter++;
      break;
    }
  }
  return iter;
}

export function powForTest(x: f64, b: f64): f64 {
  return fastPow(x, b);
}

// ---- one epoch of UMAP's SGD (umap-js optimizeLayoutStep) ----
const CLIP: f64 = 4.0;

@inline
function clip(g: f64): f64 {
  return g > CLIP ? CLIP : g < -CLIP ? -CLIP : g;
}

// ---- the gradient coefficients as functions of d², tabulated ----
// attract(d²) = −2ab·d^(2(b−1)) / (1 + a·d^(2b)) and repel(d²) = 2γb / ((0.001 + d²)(1 + a·d^(2b))),
// sampled at 1,024 points an octave of d² from 2^−20 to 2^12 and interpolated linearly in d²
// (within 2e-6 relative, and as fast as 128 points an octave); outside that range they are
// computed. The SGD's chain per sample — a power, a division — becomes two loads and a
// multiply–add.
const OCTAVES = 32;
const PER_OCTAVE = 1024;
const LOW_EXPONENT = -20;
const TABLE = OCTAVES * PER_OCTAVE + 1;
const ATTRACT_T = memory.data(TABLE * 8);
const REPEL_T = memory.data(TABLE * 8);
let tableA: f64 = NaN;
let tableB: f64 = NaN;
let tableGamma: f64 = NaN;

@inline
function attractAt(d2: f64, a: f64, b: f64): f64 {
  const p = fastPow(d2, b);
  return (-2.0 * a * b * p) / d2 / (a * p + 1.0);
}

@inline
function repelAt(d2: f64, a: f64, b: f64, gamma: f64): f64 {
  return (2.0 * gamma * b) / ((0.001 + d2) * (a * fastPow(d2, b) + 1));
}

function buildTables(a: f64, b: f64, gamma: f64): void {
  if (a == tableA && b == tableB && gamma == tableGamma) return;
  for (let e = 0; e < OCTAVES; e++) {
    for (let m = 0; m < PER_OCTAVE; m++) {
      const x = Math.pow(2.0, <f64>(e + LOW_EXPONENT)) * (1.0 + <f64>m / <f64>PER_OCTAVE);
      const at = <usize>(e * PER_OCTAVE + m) << 3;
      store<f64>(ATTRACT_T + at, attractAt(x, a, b));
      store<f64>(REPEL_T + at, repelAt(x, a, b, gamma));
    }
  }
  const top = Math.pow(2.0, <f64>(OCTAVES + LOW_EXPONENT));
  store<f64>(ATTRACT_T + (<usize>(TABLE - 1) << 3), attractAt(top, a, b));
  store<f64>(REPEL_T + (<usize>(TABLE - 1) << 3), repelAt(top, a, b, gamma));
  tableA = a;
  tableB = b;
  tableGamma = gamma;
}

/** The table entry below d² and the fraction of the way to the next, or −1 outside the table. */
@inline
function tableIndex(d2: f64): i32 {
  const bits = reinterpret<u64>(d2);
  const e = <i32>(bits >> 52) - 1023 - LOW_EXPONENT;
  if (<u32>e >= <u32>OCTAVES) return -1;
  return e * PER_OCTAVE + <i32>((bits >> 42) & (PER_OCTAVE - 1));
}

@inline
function tableFraction(d2: f64): f64 {
  return <f64>(reinterpret<u64>(d2) & 0x3ffffffffff) * 2.2737367544323206e-13; // 2^-42
}

@inline
function lookup(table: usize, i: i32, f: f64): f64 {
  const at = table + (<usize>i << 3);
  const lo = load<f64>(at);
  return lo + (load<f64>(at + 8) - lo) * f;
}

/** The attracting (which 0) or repelling (1) coefficient at d² as the SGD looks it up, for a test. */
export function coefficientForTest(d2: f64, a: f64, b: f64, gamma: f64, which: i32): f64 {
  buildTables(a, b, gamma);
  const ti = tableIndex(d2);
  if (which == 0) return ti >= 0 ? lookup(ATTRACT_T, ti, tableFraction(d2)) : attractAt(d2, a, b);
  return ti >= 0 ? lookup(REPEL_T, ti, tableFraction(d2)) : repelAt(d2, a, b, gamma);
}

/**
 * One epoch of umap-js's optimizeLayoutStep over edges e in [0, edges): head/tail i32,
 * epochsPerSample/next/epochsPerNeg/nextNeg f64; emb f64 [nVertices][dim]. The PRNG state
 * must be set (setSeed) and is carried on; the coefficients come from the tables (built for
 * a, b, gamma on first use).
 */
export function sgdEpoch(epoch: f64, edges: i32, head: usize, tail: usize, eps: usize, next: usize, epsNeg: usize, nextNeg: usize, emb: usize, nVertices: i32, dim: i32, a: f64, b: f64, gamma: f64, alpha: f64): void {
  buildTables(a, b, gamma);
  for (let i = 0; i < edges; i++) {
    const ei = <usize>i << 3;
    if (load<f64>(next + ei) > epoch) continue;
    const hi = load<i32>(head + (<usize>i << 2));
    const j = emb + ((<usize>hi * <usize>dim) << 3);
    const k = emb + ((<usize>load<i32>(tail + (<usize>i << 2)) * <usize>dim) << 3);
    let distSquared: f64 = 0;
    for (let c = 0; c < dim; c++) {
      const t = load<f64>(j + (<usize>c << 3)) - load<f64>(k + (<usize>c << 3));
      distSquared += t * t;
    }
    let gradCoeff: f64 = 0;
    if (distSquared > 0) {
      const ti = tableIndex(distSquared);
      gradCoeff = ti >= 0 ? lookup(ATTRACT_T, ti, tableFraction(distSquared)) : attractAt(distSquared, a, b);
    }
    for (let c = 0; c < dim; c++) {
      const jc = j + (<usize>c << 3);
      const kc = k + (<usize>c << 3);
      const g = clip(gradCoeff * (load<f64>(jc) - load<f64>(kc))) * alpha;
      store<f64>(jc, load<f64>(jc) + g);
      store<f64>(kc, load<f64>(kc) - g);
    }
    store<f64>(next + ei, load<f64>(next + ei) + load<f64>(eps + ei));
    const en = load<f64>(epsNeg + ei);
    const negatives = <i32>Math.floor((epoch - load<f64>(nextNeg + ei)) / en);
    for (let p = 0; p < negatives; p++) {
      const other = <i32>Math.floor(random() * <f64>nVertices);
      const o = emb + ((<usize>other * <usize>dim) << 3);
      let dist2: f64 = 0;
      for (let c = 0; c < dim; c++) {
        const t = load<f64>(j + (<usize>c << 3)) - load<f64>(o + (<usize>c << 3));
        dist2 += t * t;
      }
      let coeff: f64 = 0;
      if (dist2 > 0) {
        const ti = tableIndex(dist2);
        coeff = ti >= 0 ? lookup(REPEL_T, ti, tableFraction(dist2)) : repelAt(dist2, a, b, gamma);
      } else if (hi == other) continue;
      for (let c = 0; c < dim; c++) {
        const jc = j + (<usize>c << 3);
        const g = coeff > 0 ? clip(coeff * (load<f64>(jc) - load<f64>(o + (<usize>c << 3)))) : 4.0;
        store<f64>(jc, load<f64>(jc) + g * alpha);
      }
    }
    store<f64>(nextNeg + ei, load<f64>(nextNeg + ei) + <f64>negatives * en);
  }
}

/** First byte free for the caller's arrays. */
export function heapBase(): usize {
  return (__heap_base + 15) & ~15;
}
