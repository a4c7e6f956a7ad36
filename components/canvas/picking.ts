// GPU picking (as TensorBoard's projector does it): the focused head's points are drawn
// with their index as colour into a tiny off-screen target covering the pixels around the
// cursor, and the nearest non-empty pixel names the point. Cost does not grow with the
// number of points on the CPU side, so it stays fast at 10k+ points.
import * as THREE from 'three';
import { decodePickedId } from './pointMaterial';

/** Pixels around the cursor that still count as a hit (points are a few pixels wide). */
export const PICK_RADIUS = 4;
const SIZE = 2 * PICK_RADIUS + 1;

export class PointPicker {
  private target = new THREE.WebGLRenderTarget(SIZE, SIZE, { depthBuffer: true });
  private pixels = new Uint8Array(SIZE * SIZE * 4);
  private clear = new THREE.Color();

  /** The point index drawn nearest to (x, y) (CSS pixels from the canvas's top left), or null. */
  pick(gl: THREE.WebGLRenderer, camera: THREE.PerspectiveCamera, object: THREE.Object3D, x: number, y: number): number | null {
    const { width, height } = gl.domElement.getBoundingClientRect();
    const ratio = gl.getPixelRatio();
    camera.setViewOffset(width * ratio, height * ratio, Math.round(x * ratio) - PICK_RADIUS, Math.round(y * ratio) - PICK_RADIUS, SIZE, SIZE);
    const alpha = gl.getClearAlpha();
    gl.getClearColor(this.clear);
    const autoReset = gl.info.autoReset;
    // The picking pass must not count toward the frame's draw calls.
    gl.info.autoReset = false;
    const before = gl.info.render.calls;
    gl.setRenderTarget(this.target);
    gl.setClearColor(0x000000, 0);
    gl.clear();
    gl.render(object, camera);
    gl.setRenderTarget(null);
    gl.setClearColor(this.clear, alpha);
    gl.info.render.calls = before;
    gl.info.autoReset = autoReset;
    camera.clearViewOffset();
    gl.readRenderTargetPixels(this.target, 0, 0, SIZE, SIZE, this.pixels);
    let best: number | null = null;
    let bestDistance = Infinity;
    for (let py = 0; py < SIZE; py++) {
      for (let px = 0; px < SIZE; px++) {
        const i = (py * SIZE + px) * 4;
        if (this.pixels[i + 3] === 0) continue;
        // readPixels rows start at the bottom.
        const d = (px - PICK_RADIUS) ** 2 + (SIZE - 1 - py - PICK_RADIUS) ** 2;
        if (d < bestDistance) {
          bestDistance = d;
          best = decodePickedId(this.pixels[i], this.pixels[i + 1], this.pixels[i + 2]);
        }
      }
    }
    return best;
  }

  dispose(): void {
    this.target.dispose();
  }
}
