// AssemblyScript source of QKViz's per-head analysis kernels (compiled by
// scripts/build-wasm.mjs into lib/analysis/analysisWasm.ts): the passes of
// lib/analysis/pairs.ts over every (query, key) pair of a sentence — q·k derived from the
// attention, one normalization's figures, the attention check — operation for operation as
// the JavaScript there, dot products in f64x2 lanes. The caller lays every array out in this
// module's memory and passes byte offsets.

import { fastLog } from './fastmath';

const LOG_FLOOR: f64 = 1e-30;
const DERIVED_TOLERANCE: f64 = 1e-4;
const REL_ERROR_FLOOR: f64 = 1e-3;

@inline
function f64At(p: usize, i: i32): f64 {
  return load<f64>(p + (<usize>i << 3));
}

@inline
function setF64(p: usize, i: i32, v: f64): void {
  store<f64>(p + (<usize>i << 3), v);
}

@inline
function f32At(p: usize, i: i32): f64 {
  return <f64>load<f32>(p + (<usize>i << 2));
}

@inline
function i32At(p: usize, i: i32): i32 {
  return load<i32>(p + (<usize>i << 2));
}

/**
 * Rows a and b (of length d) of two [n][d] f32 arrays, products and sums in f64 (f64x2 lanes):
 * f32 × f32 is exact in f64, so this differs from the JavaScript dotProduct only in the
 * order of the f64 additions.
 */
@inline
function dot(x: usize, a: i32, y: usize, b: i32, d: i32): f64 {
  const pa = x + ((<usize>a * <usize>d) << 2);
  const pb = y + ((<usize>b * <usize>d) << 2);
  let lo = f64x2.splat(0);
  let hi = f64x2.splat(0);
  let c = 0;
  for (; c + 4 <= d; c += 4) {
    const va = v128.load(pa + (<usize>c << 2));
    const vb = v128.load(pb + (<usize>c << 2));
    lo = f64x2.add(lo, f64x2.mul(f64x2.promote_low_f32x4(va), f64x2.promote_low_f32x4(vb)));
    hi = f64x2.add(hi, f64x2.mul(f64x2.promote_low_f32x4(v128.shuffle<f32>(va, va, 2, 3, 0, 1)), f64x2.promote_low_f32x4(v128.shuffle<f32>(vb, vb, 2, 3, 0, 1))));
  }
  let s: f64 = f64x2.extract_lane(lo, 0) + f64x2.extract_lane(lo, 1) + (f64x2.extract_lane(hi, 0) + f64x2.extract_lane(hi, 1));
  for (; c < d; c++) s += <f64>load<f32>(pa + (<usize>c << 2)) * <f64>load<f32>(pb + (<usize>c << 2));
  return s;
}

/**
 * HeadPairs.pairDots: fills qk (f64 [P]), keyWeight/rowWeight (f64 [n]), argmaxKey (i32 [n])
 * and out[0..3) = attendedDot, entropy, special share sums. scale > 0 derives q·k from ln A
 * (returns 0 if the relation fails for some query); scale 0 computes every dot product.
 * causal: a query's keys are the tokens up to it (the block's lower triangle).
 * exactAt is scratch (i32 [longest sentence]).
 */
export function pairDots(S: i32, starts: usize, blocks: usize, q: usize, k: usize, dim: i32, att: usize, qk: usize, keyWeight: usize, rowWeight: usize, argmaxKey: usize, n: i32, scale: f64, causal: i32, exactAt: usize, out: usize): i32 {
  memory.fill(keyWeight, 0, <usize>n << 3);
  const derive = scale > 0;
  const inverse: f64 = derive ? 1.0 / scale : 0;
  let attendedDot: f64 = 0;
  let entropy: f64 = 0;
  let special: f64 = 0;
  for (let s = 0; s < S; s++) {
    const row0 = i32At(starts, s);
    const len = i32At(starts, s + 1) - row0;
    const block = i32At(blocks, s);
    for (let i = 0; i < len; i++) {
      const rowStart = block + i * len;
      let best = 0;
      let bestA: f64 = -1;
      let far = -1;
      let farA: f64 = Infinity;
      let rowSum: f64 = 0;
      let weightedLog: f64 = 0;
      let exactCount = 0;
      let exactMass: f64 = 0;
      const keys = causal ? i + 1 : len;
      for (let j = 0; j < keys; j++) {
        const a = f32At(att, rowStart + j);
        rowSum += a;
        setF64(keyWeight, row0 + j, f64At(keyWeight, row0 + j) + a);
        if (a > bestA) {
          best = j;
          bestA = a;
        }
        if (a >= LOG_FLOOR && derive) {
          if (a < farA) {
            far = j;
            farA = a;
          }
          const lg = fastLog(a);
          entropy -= a * lg;
          const scaled = lg * inverse;
          setF64(qk, rowStart + j, scaled);
          weightedLog += a * scaled;
        } else {
          if (a > 0) entropy -= a * Math.log(a); // below the floor: may be subnormal
          store<i32>(exactAt + (<usize>exactCount << 2), j);
          exactCount++;
          exactMass += a;
        }
      }
      setF64(rowWeight, row0 + i, rowSum);
      store<i32>(argmaxKey + (<usize>(row0 + i) << 2), row0 + best);
      special += f32At(att, rowStart) + (!causal && len > 1 ? f32At(att, rowStart + len - 1) : 0);
      if (derive) {
        const exact = dot(q, row0 + i, k, row0 + best, dim);
        const offset = exact - f64At(qk, rowStart + best);
        if (far != best) {
          const check = dot(q, row0 + i, k, row0 + far, dim);
          if (!(Math.abs(f64At(qk, rowStart + far) + offset - check) <= DERIVED_TOLERANCE * (1 + Math.abs(check) + Math.abs(exact)))) return 0;
        }
        for (let j = rowStart, end = rowStart + keys; j < end; j++) setF64(qk, j, f64At(qk, j) + offset);
        attendedDot += weightedLog + offset * (rowSum - exactMass);
        setF64(qk, rowStart + best, exact);
      }
      for (let e = 0; e < exactCount; e++) {
        const j = load<i32>(exactAt + (<usize>e << 2));
        const d = dot(q, row0 + i, k, row0 + j, dim);
        setF64(qk, rowStart + j, d);
        attendedDot += f32At(att, rowStart + j) * d;
      }
    }
  }
  setF64(out, 0, attendedDot);
  setF64(out, 1, entropy);
  setF64(out, 2, special);
  return 1;
}

@inline
function pearson(w: f64, sx: f64, sxx: f64, sy: f64, syy: f64, sxy: f64): f64 {
  if (w <= 0) return NaN;
  const vx = sxx - (sx * sx) / w;
  const vy = syy - (sy * sy) / w;
  const cov = sxy - (sx * sy) / w;
  return vx > 0 && vy > 0 ? cov / Math.sqrt(vx * vy) : NaN;
}

/**
 * HeadPairs.figuresFor's pass over the pairs for one normalization: out[0..6) = Σ weighted
 * distance, Σ argmax distance, Σ random distance, Σ per-query Pearson, Σ weighted Pearson,
 * queries counted.
 */
export function figuresPass(S: i32, starts: usize, blocks: usize, qk: usize, att: usize, keyTerm: usize, qq: usize, qt: usize, argmaxKey: usize, randomKey: usize, qkRandom: usize, c2: f64, minKeys: i32, causal: i32, out: usize): void {
  let argmax: f64 = 0;
  let weighted: f64 = 0;
  let random: f64 = 0;
  let sumPlain: f64 = 0;
  let sumWeighted: f64 = 0;
  let count: f64 = 0;
  for (let s = 0; s < S; s++) {
    const row0 = i32At(starts, s);
    const len = i32At(starts, s + 1) - row0;
    const block = i32At(blocks, s);
    for (let i = 0; i < len; i++) {
      const keys = causal ? i + 1 : len;
      const correlate = keys >= minKeys;
      const qi = row0 + i;
      const base = c2 * f64At(qq, qi) - 2 * f64At(qt, qi);
      const rowStart = block + i * len;
      const x0 = f64At(qk, rowStart);
      let sx: f64 = 0, sxx: f64 = 0, sy: f64 = 0, syy: f64 = 0, sxy: f64 = 0;
      let w: f64 = 0, wx: f64 = 0, wxx: f64 = 0, wy: f64 = 0, wyy: f64 = 0, wxy: f64 = 0;
      for (let j = 0; j < keys; j++) {
        const d = f64At(qk, rowStart + j);
        const v = base + f64At(keyTerm, row0 + j) - 2 * d;
        const y: f64 = v > 0 ? Math.sqrt(v) : 0;
        const a = f32At(att, rowStart + j);
        const x = d - x0;
        sx += x;
        sxx += x * x;
        sy += y;
        syy += y * y;
        sxy += x * y;
        w += a;
        wx += a * x;
        wxx += a * x * x;
        wy += a * y;
        wyy += a * y * y;
        wxy += a * x * y;
      }
      weighted += wy;
      const am = i32At(argmaxKey, qi);
      const va = base + f64At(keyTerm, am) - 2 * f64At(qk, rowStart + am - row0);
      argmax += va > 0 ? Math.sqrt(va) : 0;
      const vr = base + f64At(keyTerm, i32At(randomKey, qi)) - 2 * f64At(qkRandom, qi);
      random += vr > 0 ? Math.sqrt(vr) : 0;
      if (!correlate) continue;
      const plain = pearson(<f64>keys, sx, sxx, sy, syy, sxy);
      const weightedCorr = pearson(w, wx, wxx, wy, wyy, wxy);
      if (isFinite(plain) && isFinite(weightedCorr)) {
        sumPlain += plain;
        sumWeighted += weightedCorr;
        count += 1;
      }
    }
  }
  setF64(out, 0, weighted);
  setF64(out, 1, argmax);
  setF64(out, 2, random);
  setF64(out, 3, sumPlain);
  setF64(out, 4, sumWeighted);
  setF64(out, 5, count);
}

/**
 * HeadPairs.attentionCheck: softmax(q·k·scale) against the attention over every
 * `every`-th query row (causal: softmax over the keys up to the query, 0 after it); out[0..2) = max abs error, max relative error (weights ≥ 1e-3).
 * logits is scratch (f64 [longest sentence]).
 */
export function attentionCheck(S: i32, starts: usize, blocks: usize, q: usize, k: usize, dim: i32, att: usize, scale: f64, every: i32, causal: i32, logits: usize, out: usize): void {
  let maxAbs: f64 = 0;
  let maxRel: f64 = 0;
  for (let s = 0; s < S; s++) {
    const row0 = i32At(starts, s);
    const len = i32At(starts, s + 1) - row0;
    const block = i32At(blocks, s);
    for (let i = (every - (row0 % every)) % every; i < len; i += every) {
      const keys = causal ? i + 1 : len;
      let max: f64 = -Infinity;
      for (let j = 0; j < keys; j++) {
        const l = dot(q, row0 + i, k, row0 + j, dim) * scale;
        setF64(logits, j, l);
        if (l > max) max = l;
      }
      let total: f64 = 0;
      for (let j = 0; j < keys; j++) {
        const e = Math.exp(f64At(logits, j) - max);
        setF64(logits, j, e);
        total += e;
      }
      for (let j = 0; j < len; j++) {
        const want = f32At(att, block + i * len + j);
        // A causal row's weights past the query must be 0: its error there is the weight.
        const err = j < keys ? Math.abs(f64At(logits, j) / total - want) : Math.abs(want);
        if (err > maxAbs) maxAbs = err;
        if (want >= REL_ERROR_FLOOR && err / want > maxRel) maxRel = err / want;
      }
    }
  }
  setF64(out, 0, maxAbs);
  setF64(out, 1, maxRel);
}

/** First byte free for the caller's arrays. */
export function heapBase(): usize {
  return (__heap_base + 15) & ~15;
}
