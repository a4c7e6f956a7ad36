// Every head layout of the shown result, outside React: the projection scheduler writes
// layouts as they arrive (computed or from the cache) and epoch ticks as UMAP runs; views
// subscribe and redraw only when a layout they show changed, and the status line re-renders
// only when its text does.
//
// Memory stays bounded by the matrix, not the corpus: for a run with more points per head than
// the matrix overview draws (lib/views/lod.ts), each head keeps its overview — the first points
// of the sample order — and only a few heads keep their full layouts (the focused head, cells
// zoomed in on: FULL_LAYOUT_BYTES at most, least recently used dropped first). A view that needs
// a head in full asks for it (`requestFull`); the scheduler computes or reads it and sets it.
import type { NormalizationMode } from '@/lib/analysis/normalize';
import type { ProjectionMethod, UmapKernel } from '@/lib/projection/project';
import { FULL_LAYOUT_BYTES, overviewOf } from '@/lib/views/lod';

/** A head's layout as the overview draws it: in point order (all points), or the sample order's first points. */
export interface OverviewLayout {
  coords: Float32Array;
  /** Slot v is point order[v] (a sampled overview); false: coords are every point in point order. */
  sampled: boolean;
}

export interface LayoutView {
  mode: NormalizationMode;
  method: ProjectionMethod;
  dims: 2 | 3;
}

export const viewSlot = (v: LayoutView) => `${v.mode}|${v.method}|${v.dims}`;

export interface EpochTick {
  slot: string;
  layer: number;
  head: number;
  epoch: number;
  epochs: number;
}

export class LayoutStore {
  /** Per slot, per cell: the overview (sampled runs), or the full layout (runs small enough to keep every point). */
  private layouts = new Map<string, (Float32Array | null)[]>();
  /** Sampled runs: full layouts kept, by `slot|cell`, oldest use first. */
  private full = new Map<string, Float32Array>();
  private fullBytes = 0;
  /** Cells a view draws in full right now: never dropped. */
  private pinned = new Set<string>();
  /** Set by the scheduler: compute or read this head's full layout, then `set` it. */
  onWantFull: ((view: LayoutView, layer: number, head: number) => void) | null = null;
  private versions = new Map<string, number>();
  private listeners = new Set<() => void>();
  /** When each slot was first asked for, and how long it took to have every head. */
  private begunAt = new Map<string, number>();
  readonly completedAt = new Map<string, number>();
  /** First and last arrival of computed layouts per slot, and how many: the rate heads come in at. */
  private arrivals = new Map<string, { first: number; last: number; count: number }>();
  readonly computed: Record<ProjectionMethod, number> = { pca: 0, umap: 0 };
  /** Where the last computed UMAP layout ran (WebAssembly SIMD, or JavaScript without it). */
  umapKernel: UmapKernel | undefined;
  cached = 0;
  errors: string[] = [];
  epoch: EpochTick | null = null;
  /** Bumped on every change (layouts, ticks, errors): the snapshot for useSyncExternalStore. */
  changes = 0;

  /**
   * `order` and `overviewPoints`: the run's sample order and the overview's points per head,
   * when a head has more points than that (the store then keeps overviews); null otherwise.
   */
  constructor(
    readonly layers: number,
    readonly heads: number,
    readonly sampling: { order: Int32Array; overviewPoints: number } | null = null,
  ) {}

  /** A head's full layout ([2N][dims], queries then keys), when held: always for small runs, a few heads of large ones. */
  get(view: LayoutView, layer: number, head: number): Float32Array | null {
    if (!this.sampling) return this.layouts.get(viewSlot(view))?.[layer * this.heads + head] ?? null;
    const key = `${viewSlot(view)}|${layer * this.heads + head}`;
    const coords = this.full.get(key);
    if (coords) {
      // Most recently used last.
      this.full.delete(key);
      this.full.set(key, coords);
    }
    return coords ?? null;
  }

  /** What the overview draws of a head, once it has arrived. */
  overview(view: LayoutView, layer: number, head: number): OverviewLayout | null {
    const coords = this.layouts.get(viewSlot(view))?.[layer * this.heads + head] ?? null;
    return coords ? { coords, sampled: !!this.sampling } : null;
  }

  /** Asks for heads' full layouts (those not held are computed or read); keeps them while pinned. */
  requestFull(view: LayoutView, cells: readonly { layer: number; head: number }[]): void {
    if (!this.sampling) return;
    this.pinned = new Set(cells.map((c) => `${viewSlot(view)}|${c.layer * this.heads + c.head}`));
    for (const c of cells) if (!this.full.has(`${viewSlot(view)}|${c.layer * this.heads + c.head}`)) this.onWantFull?.(view, c.layer, c.head);
  }

  /** Whether a head's full layout is held. */
  hasFull(view: LayoutView, layer: number, head: number): boolean {
    return this.sampling ? this.full.has(`${viewSlot(view)}|${layer * this.heads + head}`) : this.has(view, layer, head);
  }

  /** Bumped whenever a head of this view arrives: a view compares it with what it drew. */
  version(view: LayoutView): number {
    return this.versions.get(viewSlot(view)) ?? 0;
  }

  count(view: LayoutView): number {
    return this.layouts.get(viewSlot(view))?.filter(Boolean).length ?? 0;
  }

  /** Whether a head's layout has arrived (its overview, for a sampled run). */
  has(view: LayoutView, layer: number, head: number): boolean {
    return (this.layouts.get(viewSlot(view))?.[layer * this.heads + head] ?? null) !== null;
  }

  /** Marks a slot as asked for (its completion time counts from here). */
  begin(view: LayoutView): void {
    const slot = viewSlot(view);
    if (!this.begunAt.has(slot)) this.begunAt.set(slot, performance.now());
  }

  /** Milliseconds until the slot's remaining heads arrive at the rate they have been arriving, or null. */
  remainingMs(view: LayoutView): number | null {
    const a = this.arrivals.get(viewSlot(view));
    if (!a || a.count < 2 || a.last <= a.first) return null;
    const left = this.layers * this.heads - this.count(view);
    return (left * (a.last - a.first)) / (a.count - 1);
  }

  /**
   * A head's layout arrived: `coords` is its full layout, or (`overview`) the sample order's
   * first points. A full layout of a sampled run gives the head its overview, and is kept while
   * the budget allows.
   */
  set(view: LayoutView, layer: number, head: number, coords: Float32Array, from: 'computed' | 'cache', overview = false): void {
    const slot = viewSlot(view);
    let cells = this.layouts.get(slot);
    if (!cells) this.layouts.set(slot, (cells = new Array(this.layers * this.heads).fill(null)));
    const cell = layer * this.heads + head;
    if (this.sampling && !overview) {
      const key = `${slot}|${cell}`;
      if (!this.full.has(key)) {
        this.full.set(key, coords);
        this.fullBytes += coords.byteLength;
        this.trim();
        if (cells[cell]) {
          // Only the full layout is new: views drawing it in full redraw.
          this.versions.set(slot, (this.versions.get(slot) ?? 0) + 1);
          this.notify();
          return;
        }
      }
      if (cells[cell]) return;
      cells[cell] = overviewOf(coords, this.sampling.order, this.sampling.overviewPoints, view.dims);
    } else {
      if (cells[cell]) return;
      cells[cell] = coords;
    }
    const now = performance.now();
    if (from === 'computed') {
      this.computed[view.method]++;
      const a = this.arrivals.get(slot);
      this.arrivals.set(slot, a ? { ...a, last: now, count: a.count + 1 } : { first: now, last: now, count: 1 });
    } else this.cached++;
    this.versions.set(slot, (this.versions.get(slot) ?? 0) + 1);
    if (this.epoch?.slot === slot && this.epoch.layer === layer && this.epoch.head === head) this.epoch = null;
    if (!this.completedAt.has(slot) && cells.every(Boolean)) this.completedAt.set(slot, now - (this.begunAt.get(slot) ?? now));
    this.notify();
  }

  /** Drops the least recently used full layouts past the budget (never a pinned one). */
  private trim(): void {
    for (const [key, coords] of this.full) {
      if (this.fullBytes <= FULL_LAYOUT_BYTES) return;
      if (this.pinned.has(key)) continue;
      this.full.delete(key);
      this.fullBytes -= coords.byteLength;
    }
  }

  tick(view: LayoutView, layer: number, head: number, epoch: number, epochs: number): void {
    this.epoch = { slot: viewSlot(view), layer, head, epoch, epochs };
    this.notify();
  }

  fail(message: string): void {
    this.errors = [...this.errors, message];
    this.notify();
  }

  clearTick(): void {
    this.epoch = null;
    this.notify();
  }

  subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  /** Tells every subscriber something changed (also used when the scheduler stops). */
  notify(): void {
    this.changes++;
    for (const l of this.listeners) l();
  }
}
