// Framing what the camera flies to: a head (the box its cloud fills in the view plane, from
// quantiles, so a few outlying points do not shrink everything else) or the whole matrix, and
// the camera distance and aim at which that box fills most of the view above a strip kept
// free at the bottom (where the legend and status sit).

export interface HeadFrame {
  /** Centre of the box, relative to the head's centre. */
  x: number;
  y: number;
  halfWidth: number;
  halfHeight: number;
  /** How far the cloud reaches toward the camera (z), 0 in 2D. */
  front: number;
}

/** Share of points on each side allowed outside the framed box. */
export const FRAME_QUANTILE = 0.005;
/** Share of the view's limiting dimension the framed box fills. */
export const FRAME_FILL = 0.92;

function quantiles(values: Float32Array, q: number): [number, number] {
  const sorted = Float32Array.from(values).sort();
  const at = (p: number) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.round(p * (sorted.length - 1))))];
  return [at(q), at(1 - q)];
}

/** The framing box of a head's layout ([point][dims], queries then keys). */
export function headFrame(coords: Float32Array, dims: 2 | 3, q = FRAME_QUANTILE): HeadFrame {
  const n = coords.length / dims;
  if (n === 0) return { x: 0, y: 0, halfWidth: 1, halfHeight: 1, front: dims === 3 ? 1 : 0 };
  const axis = (c: number) => {
    const v = new Float32Array(n);
    for (let i = 0; i < n; i++) v[i] = coords[i * dims + c];
    return quantiles(v, q);
  };
  const [x0, x1] = axis(0);
  const [y0, y1] = axis(1);
  const front = dims === 3 ? Math.max(0, axis(2)[1]) : 0;
  // A degenerate cloud (one point, a line) still gets a sensible box.
  const floor = 0.05;
  return { x: (x0 + x1) / 2, y: (y0 + y1) / 2, halfWidth: Math.max(floor, (x1 - x0) / 2), halfHeight: Math.max(floor, (y1 - y0) / 2), front };
}

/** The smallest frame holding all of `frames` (compare mode frames two layouts of one head at once). */
export function unionFrame(frames: readonly HeadFrame[]): HeadFrame {
  const x0 = Math.min(...frames.map((f) => f.x - f.halfWidth));
  const x1 = Math.max(...frames.map((f) => f.x + f.halfWidth));
  const y0 = Math.min(...frames.map((f) => f.y - f.halfHeight));
  const y1 = Math.max(...frames.map((f) => f.y + f.halfHeight));
  return { x: (x0 + x1) / 2, y: (y0 + y1) / 2, halfWidth: (x1 - x0) / 2, halfHeight: (y1 - y0) / 2, front: Math.max(...frames.map((f) => f.front)) };
}

export interface FramedView {
  /** Camera distance from the box's plane (z = 0). */
  distance: number;
  /** How far below the box's centre the camera aims, so the box sits above the reserved strip. */
  lookBelow: number;
}

/**
 * Where the camera goes for `frame` to fill `fill` of the view's limiting dimension, leaving
 * `reserveBottom` (a share of the view's height) free at the bottom.
 */
export function frameView(frame: HeadFrame, fovDegrees: number, aspect: number, reserveBottom = 0, fill = FRAME_FILL): FramedView {
  const t = Math.tan((fovDegrees * Math.PI) / 360);
  const usable = 1 - reserveBottom;
  const fit = Math.max(frame.halfHeight / (t * usable), frame.halfWidth / (t * aspect)) / fill;
  const distance = frame.front + fit;
  return { distance, lookBelow: distance * t * reserveBottom };
}

/** Camera distance from the box's plane at which the frame fills FRAME_FILL of the whole view. */
export function frameDistance(frame: HeadFrame, fovDegrees: number, aspect: number, fill = FRAME_FILL): number {
  return frameView(frame, fovDegrees, aspect, 0, fill).distance;
}
