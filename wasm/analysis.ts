// AssemblyScript source of QKViz's per-head analysis kernels (compiled by
// scripts/build-wasm.mjs into lib/analysis/analysisWasm.ts): the passes of
// lib/analysis/pairs.ts over every (query, key) pair of a sentence — q·k and the attention
// recomputed from it, one normalization's figures — operation for operation as the
// JavaScript in lib/analysis/pairsJs.ts, dot products in f64x2 lanes. The caller lays every array out in this
// module's memory and passes byte offsets.

import { fastExp } from './fastmath';

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
 * HeadPairs' pair pass: for every query of every sentence, q·k with each of its keys (exact,
 * f64x2 lanes) into qk (f64 [P]), and its attention recomputed as the model computes it —
 * softmax over the keys of scale · (qa·ka), soft-capped as cap·tanh(logit/cap) when cap > 0,
 * keys past the query masked when causal, keys `window` or more behind it masked when window
 * > 0 — into att (f32 [P], 0 where masked). qa/ka are the vectors attention is computed from:
 * q/k themselves, or a rotary model's rotated vectors when q/k are the unrotated ones (dimA
 * is their size). Also keyWeight/rowWeight (f64 [n]: attention a key receives, a row's sum),
 * argmaxKey (i32 [n]) and out[0..3) = Σ A·q·k, Σ row entropy (nats), Σ attention on each
 * sentence's first (and, non-causal, last) token. logits is scratch (f64 [longest sentence]).
 */
export function pairAttention(S: i32, starts: usize, blocks: usize, q: usize, k: usize, dim: i32, qa: usize, ka: usize, dimA: i32, att: usize, qk: usize, keyWeight: usize, rowWeight: usize, argmaxKey: usize, n: i32, scale: f64, cap: f64, window: i32, causal: i32, logits: usize, out: usize): void {
  memory.fill(keyWeight, 0, <usize>n << 3);
  const same = qa == q && ka == k;
  let attendedDot: f64 = 0;
  let entropy: f64 = 0;
  let special: f64 = 0;
  for (let s = 0; s < S; s++) {
    const row0 = i32At(starts, s);
    const len = i32At(starts, s + 1) - row0;
    const block = i32At(blocks, s);
    for (let i = 0; i < len; i++) {
      const rowStart = block + i * len;
      const last = causal ? i + 1 : len;
      const first = window > 0 && i - window + 1 > 0 ? i - window + 1 : 0;
      let max: f64 = -Infinity;
      for (let j = first; j < last; j++) {
        const d = dot(q, row0 + i, k, row0 + j, dim);
        setF64(qk, rowStart + j, d);
        let z = (same ? d : dot(qa, row0 + i, ka, row0 + j, dimA)) * scale;
        if (cap > 0) z = cap * Math.tanh(z / cap);
        setF64(logits, j, z);
        if (z > max) max = z;
      }
      // Keys the mask hides still get their q·k (the figures' pairs are every key up to the query).
      for (let j = 0; j < first; j++) setF64(qk, rowStart + j, dot(q, row0 + i, k, row0 + j, dim));
      // The row's entropy without a logarithm a pair: −Σ a ln a = max + ln Σe − Σ e·z / Σe.
      let total: f64 = 0;
      let ez: f64 = 0;
      for (let j = first; j < last; j++) {
        const z = f64At(logits, j);
        const e = fastExp(z - max);
        setF64(logits, j, e);
        total += e;
        ez += e * z;
      }
      const inverse = 1.0 / total;
      entropy += max + Math.log(total) - ez * inverse;
      let rowSum: f64 = 0;
      let best = first;
      let bestA: f64 = -1;
      for (let j = 0; j < len; j++) {
        const a32 = j >= first && j < last ? <f32>(f64At(logits, j) * inverse) : <f32>0;
        store<f32>(att + (<usize>(rowStart + j) << 2), a32);
        if (j >= last) {
          // Past a causal query: no pair (0, so the memory holds no earlier head's values).
          setF64(qk, rowStart + j, 0);
          continue;
        }
        const a = <f64>a32;
        rowSum += a;
        setF64(keyWeight, row0 + j, f64At(keyWeight, row0 + j) + a);
        attendedDot += a * f64At(qk, rowStart + j);
        if (a > bestA) {
          best = j;
          bestA = a;
        }
      }
      setF64(rowWeight, row0 + i, rowSum);
      store<i32>(argmaxKey + (<usize>(row0 + i) << 2), row0 + best);
      special += f32At(att, rowStart) + (!causal && len > 1 ? f32At(att, rowStart + len - 1) : 0);
    }
  }
  setF64(out, 0, attendedDot);
  setF64(out, 1, entropy);
  setF64(out, 2, special);
}

/**
 * HeadSums' per-token sums over n rows, after pairAttention filled rowWeight/keyWeight:
 * out[0..5) = Σ‖q‖², Σ R·‖q‖², Σ‖k‖², Σ W·‖k‖², Σ‖q‖; sRq (f64 [dim]) = Σ R·q, sWk = Σ W·k.
 */
export function tokenSums(n: i32, q: usize, k: usize, dim: i32, rowWeight: usize, keyWeight: usize, sRq: usize, sWk: usize, out: usize): void {
  memory.fill(sRq, 0, <usize>dim << 3);
  memory.fill(sWk, 0, <usize>dim << 3);
  let qq: f64 = 0;
  let qqR: f64 = 0;
  let kk: f64 = 0;
  let kkW: f64 = 0;
  let qNorm: f64 = 0;
  for (let r = 0; r < n; r++) {
    const a = dot(q, r, q, r, dim);
    const b = dot(k, r, k, r, dim);
    const R = f64At(rowWeight, r);
    const W = f64At(keyWeight, r);
    qq += a;
    qqR += R * a;
    kk += b;
    kkW += W * b;
    qNorm += Math.sqrt(a);
    const pq = q + ((<usize>r * <usize>dim) << 2);
    const pk = k + ((<usize>r * <usize>dim) << 2);
    for (let d = 0; d < dim; d++) {
      setF64(sRq, d, f64At(sRq, d) + R * <f64>load<f32>(pq + (<usize>d << 2)));
      setF64(sWk, d, f64At(sWk, d) + W * <f64>load<f32>(pk + (<usize>d << 2)));
    }
  }
  setF64(out, 0, qq);
  setF64(out, 1, qqR);
  setF64(out, 2, kk);
  setF64(out, 3, kkW);
  setF64(out, 4, qNorm);
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

/** First byte free for the caller's arrays. */
export function heapBase(): usize {
  return (__heap_base + 15) & ~15;
}
