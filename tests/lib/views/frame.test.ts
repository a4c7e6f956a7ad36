// Framing a flown-into head: the box of its cloud and the camera distance that fills the view.
import { describe, expect, it } from 'vitest';
import { FRAME_FILL, frameDistance, frameView, headFrame, unionFrame } from '../../../lib/views/frame';

describe('head framing', () => {
  it('frames the bulk of the cloud, not its outliers', () => {
    // 1,000 points on a 0.6 × 0.2 rectangle centred at (0.1, -0.2), and one far outlier.
    const n = 1000;
    const coords = new Float32Array((n + 1) * 3);
    for (let i = 0; i < n; i++) coords.set([0.1 + 0.6 * (i / (n - 1) - 0.5), -0.2 + (0.2 * ((i * 7) % n)) / (n - 1) - 0.1, 0.3 * ((i % 10) / 9)], i * 3);
    coords.set([1, 1, 1], n * 3);
    const f = headFrame(coords, 3);
    expect(f.x).toBeCloseTo(0.1, 2);
    expect(f.y).toBeCloseTo(-0.2, 2);
    expect(f.halfWidth).toBeCloseTo(0.3, 2);
    expect(f.halfHeight).toBeCloseTo(0.1, 2);
    expect(f.front).toBeCloseTo(0.3, 2);
  });

  it('puts the camera where the box fills FRAME_FILL of the limiting dimension', () => {
    const frame = { x: 0, y: 0, halfWidth: 0.5, halfHeight: 0.25, front: 0 };
    const fov = 50;
    const t = Math.tan((fov * Math.PI) / 360);
    // A wide view: height limits. The box's half height over the view's half height at that distance.
    const tall = frameDistance(frame, fov, 3);
    expect(frame.halfHeight / (tall * t)).toBeCloseTo(FRAME_FILL, 9);
    // A narrow view: width limits.
    const narrow = frameDistance(frame, fov, 0.8);
    expect(frame.halfWidth / (narrow * t * 0.8)).toBeCloseTo(FRAME_FILL, 9);
    // Depth toward the camera moves it back by that much.
    expect(frameDistance({ ...frame, front: 0.4 }, fov, 3)).toBeCloseTo(tall + 0.4, 9);
  });

  it('keeps a strip at the bottom free: the box fills the rest and sits above the strip', () => {
    const frame = { x: 0, y: 0, halfWidth: 0.5, halfHeight: 0.25, front: 0 };
    const fov = 50;
    const t = Math.tan((fov * Math.PI) / 360);
    const reserve = 0.1;
    const { distance, lookBelow } = frameView(frame, fov, 3, reserve);
    const half = distance * t;
    // Screen coordinates in half-heights (−1 bottom … 1 top) of the box's top and bottom edges.
    const top = (frame.halfHeight + lookBelow) / half;
    const bottom = (-frame.halfHeight + lookBelow) / half;
    expect(bottom).toBeCloseTo(-1 + 2 * reserve + (1 - FRAME_FILL) * (1 - reserve), 9);
    expect(top).toBeCloseTo(1 - (1 - FRAME_FILL) * (1 - reserve), 9);
  });

  it('frames two layouts of a head together (compare mode)', () => {
    const a = { x: -0.5, y: 0, halfWidth: 0.2, halfHeight: 0.1, front: 0.3 };
    const b = { x: 0.4, y: 0.2, halfWidth: 0.1, halfHeight: 0.3, front: 0.5 };
    const u = unionFrame([a, b]);
    expect(u.x - u.halfWidth).toBeCloseTo(-0.7, 12);
    expect(u.x + u.halfWidth).toBeCloseTo(0.5, 12);
    expect(u.y - u.halfHeight).toBeCloseTo(-0.1, 12);
    expect(u.y + u.halfHeight).toBeCloseTo(0.5, 12);
    expect(u.front).toBe(0.5);
    const one = unionFrame([a]);
    for (const k of ['x', 'y', 'halfWidth', 'halfHeight', 'front'] as const) expect(one[k]).toBeCloseTo(a[k], 12);
  });
});
