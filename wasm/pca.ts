// AssemblyScript source of PCA's two passes over the data (compiled by scripts/build-wasm.mjs into
// lib/wasm/pcaWasm.ts): Σ (x − μ)(x − μ)ᵀ over the rows of an [n][d] f32 array, row by row
// in f64x2 lanes, the d×d sums kept in this module's memory (in cache) while the rows stream
// through once, and the projection onto the components. Each covariance entry is the same
// products as lib/projection/pca.ts's column dot products, added in another order.

/**
 * Writes the full d×d sum of outer products of the centred rows into out (f64 [d][d]);
 * mean is f64 [d], row is scratch f64 [d + 1] (d even or odd).
 */
export function covariance(x: usize, n: i32, d: i32, mean: usize, row: usize, out: usize): void {
  const dd = <usize>d * <usize>d;
  memory.fill(out, 0, dd << 3);
  const pairs = d & ~1;
  for (let i = 0; i < n; i++) {
    const src = x + ((<usize>i * <usize>d) << 2);
    for (let c = 0; c < d; c++) store<f64>(row + (<usize>c << 3), <f64>load<f32>(src + (<usize>c << 2)) - load<f64>(mean + (<usize>c << 3)));
    for (let p = 0; p < d; p++) {
      const xp = load<f64>(row + (<usize>p << 3));
      const vp = f64x2.splat(xp);
      const base = out + ((<usize>p * <usize>d) << 3);
      let q = 0;
      for (; q < pairs; q += 2) {
        const at = base + (<usize>q << 3);
        v128.store(at, f64x2.add(v128.load(at), f64x2.mul(vp, v128.load(row + (<usize>q << 3)))));
      }
      for (; q < d; q++) {
        const at = base + (<usize>q << 3);
        store<f64>(at, load<f64>(at) + xp * load<f64>(row + (<usize>q << 3)));
      }
    }
  }
}

/**
 * Adds the rows of an [n][d] f32 array to running sums: sum (f64 [d]) += Σ x and out (f64
 * [d][d], upper triangle and diagonal) += Σ x xᵀ — a head's moments, from which the
 * covariance of any translation and scaling of its queries and keys follows.
 */
export function moments(x: usize, n: i32, d: i32, sum: usize, row: usize, out: usize): void {
  for (let i = 0; i < n; i++) {
    const src = x + ((<usize>i * <usize>d) << 2);
    for (let c = 0; c < d; c++) {
      const v = <f64>load<f32>(src + (<usize>c << 2));
      store<f64>(row + (<usize>c << 3), v);
      store<f64>(sum + (<usize>c << 3), load<f64>(sum + (<usize>c << 3)) + v);
    }
    for (let p = 0; p < d; p++) {
      const xp = load<f64>(row + (<usize>p << 3));
      const vp = f64x2.splat(xp);
      const base = out + ((<usize>p * <usize>d) << 3);
      // From the even column at or before the diagonal, two at a time (one entry below it, harmless).
      let q = p & ~1;
      for (; q + 2 <= d; q += 2) {
        const at = base + (<usize>q << 3);
        v128.store(at, f64x2.add(v128.load(at), f64x2.mul(vp, v128.load(row + (<usize>q << 3)))));
      }
      for (; q < d; q++) {
        const at = base + (<usize>q << 3);
        store<f64>(at, load<f64>(at) + xp * load<f64>(row + (<usize>q << 3)));
      }
    }
  }
}

/** coords (f32 [n][dims]) = (x − μ) · componentsᵀ, components f64 [dims][d]. */
export function project(x: usize, n: i32, d: i32, mean: usize, components: usize, dims: i32, coords: usize): void {
  for (let i = 0; i < n; i++) {
    const src = x + ((<usize>i * <usize>d) << 2);
    for (let c = 0; c < dims; c++) {
      const w = components + ((<usize>c * <usize>d) << 3);
      let s: f64 = 0;
      for (let k = 0; k < d; k++) s += load<f64>(w + (<usize>k << 3)) * (<f64>load<f32>(src + (<usize>k << 2)) - load<f64>(mean + (<usize>k << 3)));
      store<f32>(coords + ((<usize>i * <usize>dims + <usize>c) << 2), <f32>s);
    }
  }
}

/** First byte free for the caller's arrays. */
export function heapBase(): usize {
  return (__heap_base + 15) & ~15;
}
