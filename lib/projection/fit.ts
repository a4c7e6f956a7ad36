// Centres a head's layout and scales it uniformly into the unit ball: every head's cell
// in the matrix has the same size, and distances keep their proportions (the reference
// tool stretched each axis separately, which distorts them).

export function fitToUnitBall(coords: Float32Array, dims: number): { center: Float64Array; scale: number } {
  const n = coords.length / dims;
  const center = new Float64Array(dims);
  for (let i = 0; i < n; i++) for (let c = 0; c < dims; c++) center[c] += coords[i * dims + c] / n;
  let radius = 0;
  for (let i = 0; i < n; i++) {
    let r = 0;
    for (let c = 0; c < dims; c++) r += (coords[i * dims + c] - center[c]) ** 2;
    radius = Math.max(radius, r);
  }
  const scale = radius > 0 ? 1 / Math.sqrt(radius) : 1;
  for (let i = 0; i < n; i++) for (let c = 0; c < dims; c++) coords[i * dims + c] = (coords[i * dims + c] - center[c]) * scale;
  return { center, scale };
}
