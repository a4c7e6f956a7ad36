// How many points the matrix overview draws. While the camera moves (or layouts arrive), a sample sized from the
// frame time measured as it moves: slower than SLOW_FRAME_MS and it draws fewer, faster than
// FAST_FRAME_MS and it draws more. Once the camera rests, one still frame draws up to
// STILL_POINTS (every point of a default-sized corpus), with the cells zoomed in on in full.
// The frame time, the points drawn and the budget are written on the view (data attributes)
// and, when asked for, in a small HUD line.
import { useEffect, useRef } from 'react';
import * as THREE from 'three';
import type { Cell } from '../state/viewStore';
import { type MatrixShape, CELL_SPACING, cellCenter } from './geometry';
import type { QKRenderer } from './QKRenderer';

/** While moving, the overview aims between these frame times: 20 fps at worst, no thinning above 40 fps. */
const SLOW_FRAME_MS = 50;
const FAST_FRAME_MS = 25;
/** Fewest points the moving overview draws in all (a few hundred a cell for a 6 × 12 model). */
const MIN_POINT_BUDGET = 20_000;
/** Where the moving budget starts before anything is measured. */
export const INITIAL_POINT_BUDGET = 60_000;
/** Most points a still frame draws: about half a second on a software renderer, drawn once. */
const STILL_POINTS = 1_000_000;
/** Frames further apart than this are not continuous motion and say nothing of the frame cost. */
const CONTINUOUS_MS = 400;
/** The budget changes at most this often, so it does not chase single slow frames. */
const ADAPT_EVERY_MS = 500;
/** The camera has rested this long when the still frame is drawn. */
const REST_MS = 250;
/** A cell drawn at least this many pixels wide is shown in full once the camera rests. */
const FULL_CELL_PX = 200;
const BUDGET_KEY = 'qkviz.pointBudget';

/** `?lod=off` draws every point and never adapts: the benchmark's baseline. */
const levelOfDetailOff = () => typeof window !== 'undefined' && new URLSearchParams(window.location.search).get('lod') === 'off';

function storedBudget(): number {
  try {
    const v = Number(window.localStorage.getItem(BUDGET_KEY));
    return Number.isFinite(v) && v >= MIN_POINT_BUDGET ? v : INITIAL_POINT_BUDGET;
  } catch {
    return INITIAL_POINT_BUDGET;
  }
}

const scratch = new THREE.Vector3();

/** Cells whose drawn width is at least FULL_CELL_PX and whose centre is in view. */
function zoomedCells(camera: THREE.Camera, shape: MatrixShape, width: number): Set<number> {
  const out = new Set<number>();
  for (let l = 0; l < shape.layers; l++) {
    for (let h = 0; h < shape.heads; h++) {
      const [x, y] = cellCenter(shape, l, h);
      scratch.set(x, y, 0).project(camera);
      if (scratch.z > 1 || Math.abs(scratch.x) > 1.1 || Math.abs(scratch.y) > 1.1) continue;
      const cx = scratch.x;
      scratch.set(x + CELL_SPACING, y, 0).project(camera);
      if ((Math.abs(scratch.x - cx) * width) / 2 >= FULL_CELL_PX) out.add(l * shape.heads + h);
    }
  }
  return out;
}

const sameSet = (a: ReadonlySet<number>, b: ReadonlySet<number>) => a.size === b.size && [...a].every((c) => b.has(c));

export interface LevelOfDetail {
  /** Before a frame is drawn: a moving camera gets the moving budget. */
  beforeRender(): void;
  /** After a frame is drawn. */
  afterRender(now: number): void;
}

export function useLevelOfDetail(
  renderer: QKRenderer,
  camera: THREE.Camera,
  focus: Cell | null,
  invalidate: () => void,
  wrapper: React.RefObject<HTMLDivElement | null>,
  hud: React.RefObject<HTMLElement | null>,
): LevelOfDetail {
  const total = renderer.shape.layers * renderer.shape.heads * renderer.shape.points;
  const off = useRef(levelOfDetailOff()).current;
  const state = useRef({
    budget: off ? total : storedBudget(),
    still: false,
    frameMs: 0,
    last: 0,
    adapted: 0,
    rest: 0 as ReturnType<typeof setTimeout> | 0,
    view: new THREE.Matrix4(),
    writes: 0,
    full: new Set<number>() as ReadonlySet<number>,
  });

  useEffect(() => {
    if (renderer.setProps({ pointBudget: state.current.budget })) invalidate();
    return () => clearTimeout(state.current.rest || undefined);
  }, [renderer, invalidate]);

  return {
    beforeRender() {
      const s = state.current;
      camera.updateMatrixWorld();
      // Layouts arriving (a matrix filling in) count as motion: a sample per frame, the still frame once they pause.
      const moved = !s.view.equals(camera.matrixWorldInverse) || renderer.layoutWrites !== s.writes;
      s.view.copy(camera.matrixWorldInverse);
      s.writes = renderer.layoutWrites;
      if (moved && s.still && !off) {
        s.still = false;
        renderer.setProps({ pointBudget: s.budget });
      }
    },
    afterRender(now: number) {
      const s = state.current;
      const dt = now - s.last;
      s.last = now;
      const moving = !s.still && dt < CONTINUOUS_MS;
      if (moving) s.frameMs = s.frameMs ? 0.8 * s.frameMs + 0.2 * dt : dt;
      if (!off && !focus && moving && now - s.adapted > ADAPT_EVERY_MS) {
        const next =
          s.frameMs > SLOW_FRAME_MS ? Math.max(MIN_POINT_BUDGET, s.budget * 0.7) : s.frameMs < FAST_FRAME_MS ? Math.min(total, s.budget * 1.3) : s.budget;
        if (Math.abs(next - s.budget) > 1) {
          s.budget = Math.round(next);
          s.adapted = now;
          try {
            window.localStorage.setItem(BUDGET_KEY, String(s.budget));
          } catch {
            // Not remembered.
          }
          if (renderer.setProps({ pointBudget: s.budget })) invalidate();
        }
      }
      // At rest: one still frame, denser, with the cells zoomed in on in full.
      clearTimeout(s.rest || undefined);
      if (!focus && !s.still && !off) {
        s.rest = setTimeout(() => {
          s.still = true;
          const cells = zoomedCells(camera, renderer.shape, wrapper.current?.clientWidth ?? 0);
          const full = sameSet(cells, s.full) ? s.full : cells;
          s.full = full;
          if (renderer.setProps({ pointBudget: Math.max(s.budget, Math.min(total, STILL_POINTS)), fullCells: full })) invalidate();
        }, REST_MS);
      }
      const w = wrapper.current;
      if (w) {
        w.dataset.frameMs = s.frameMs.toFixed(1);
        w.dataset.drawnPoints = String(renderer.drawnPoints);
        w.dataset.totalPoints = String(total);
        w.dataset.pointBudget = String(s.budget);
        w.dataset.alwaysDrawn = String(renderer.alwaysDrawn);
      }
      if (hud.current) {
        hud.current.textContent = `frame ${s.frameMs.toFixed(0)} ms moving · ${renderer.drawnPoints.toLocaleString('en-US')} of ${total.toLocaleString('en-US')} points drawn${s.still ? ' (still)' : ''}`;
      }
    },
  };
}
