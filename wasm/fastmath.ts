// Fast elementary functions for QKViz's WebAssembly kernels, from small tables: a library
// pow or log is a long dependent chain of operations, and these kernels call one per pair.

// log2(1 + j/256) and 1/(1 + j/256), and 2^(j/256), for j < 256.
const INV_C = memory.data(256 * 8);
const LOG2_C = memory.data(256 * 8);
const EXP2_T = memory.data(256 * 8);
for (let j = 0; j < 256; j++) {
  const c: f64 = 1.0 + <f64>j / 256.0;
  store<f64>(INV_C + (<usize>j << 3), 1.0 / c);
  store<f64>(LOG2_C + (<usize>j << 3), Math.log2(c));
  store<f64>(EXP2_T + (<usize>j << 3), Math.pow(2.0, <f64>j / 256.0));
}
const INV_LN2: f64 = 1.4426950408889634;
const LN2: f64 = 0.6931471805599453;

/** log2 x for normal x > 0, within ~1e-10 relative: the exponent, a table, and three terms of log2(1 + r), |r| < 1/256. */
// @ts-ignore: decorator
@inline
export function fastLog2(x: f64): f64 {
  const bits = reinterpret<u64>(x);
  const j = <usize>((bits >> 44) & 255);
  const m = reinterpret<f64>((bits & 0x000fffffffffffff) | 0x3ff0000000000000);
  const r = (m - (1.0 + <f64>(<i32>j) * 0.00390625)) * load<f64>(INV_C + (j << 3));
  return <f64>(<i32>(bits >> 52) - 1023) + load<f64>(LOG2_C + (j << 3)) + r * INV_LN2 * (1.0 - r * (0.5 - r * 0.3333333333333333));
}

/** ln x for normal x > 0 (fastLog2 · ln 2). */
// @ts-ignore: decorator
@inline
export function fastLog(x: f64): f64 {
  return fastLog2(x) * LN2;
}

/** x^b for normal x > 0, within ~1e-10 relative: 2^(b · log2 x) = 2^k · 2^(j/256) · 2^g, 0 ≤ g < 1/256. */
// @ts-ignore: decorator
@inline
export function fastPow(x: f64, b: f64): f64 {
  const y = b * fastLog2(x);
  const t = <i64>Math.floor(y * 256.0);
  const u = (y - <f64>t * 0.00390625) * LN2;
  return load<f64>(EXP2_T + (<usize>(t & 255) << 3)) * (1.0 + u * (1.0 + u * (0.5 + u * 0.16666666666666666))) * reinterpret<f64>(<u64>((t >> 8) + 1023) << 52);
}

/**
 * e^x within ~1e-11 relative for x ≥ −708 (0 below: a softmax weight under 1e-307 is 0 to
 * float32 anyway): 2^(x·log2 e) = 2^k · 2^(j/256) · e^u, 0 ≤ u < ln2/256, four terms of e^u.
 */
// @ts-ignore: decorator
@inline
export function fastExp(x: f64): f64 {
  if (x < -708.0) return 0;
  const y = x * INV_LN2;
  const t = <i64>Math.floor(y * 256.0);
  const u = (y - <f64>t * 0.00390625) * LN2;
  return load<f64>(EXP2_T + (<usize>(t & 255) << 3)) * (1.0 + u * (1.0 + u * (0.5 + u * (0.16666666666666666 + u * 0.041666666666666664)))) * reinterpret<f64>(<u64>((t >> 8) + 1023) << 52);
}
