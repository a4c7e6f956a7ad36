// Every head layout of the shown result, outside React: the projection scheduler writes
// layouts as they arrive (computed or from the cache) and epoch ticks as UMAP runs; views
// subscribe and redraw only when a layout they show changed, and the status line re-renders
// only when its text does.
import type { NormalizationMode } from '@/lib/analysis/normalize';
import type { ProjectionMethod, UmapKernel } from '@/lib/projection/project';

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
  private layouts = new Map<string, (Float32Array | null)[]>();
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

  constructor(
    readonly layers: number,
    readonly heads: number,
  ) {}

  get(view: LayoutView, layer: number, head: number): Float32Array | null {
    return this.layouts.get(viewSlot(view))?.[layer * this.heads + head] ?? null;
  }

  /** Bumped whenever a head of this view arrives: a view compares it with what it drew. */
  version(view: LayoutView): number {
    return this.versions.get(viewSlot(view)) ?? 0;
  }

  count(view: LayoutView): number {
    return this.layouts.get(viewSlot(view))?.filter(Boolean).length ?? 0;
  }

  has(view: LayoutView, layer: number, head: number): boolean {
    return this.get(view, layer, head) !== null;
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

  set(view: LayoutView, layer: number, head: number, coords: Float32Array, from: 'computed' | 'cache'): void {
    const slot = viewSlot(view);
    let cells = this.layouts.get(slot);
    if (!cells) this.layouts.set(slot, (cells = new Array(this.layers * this.heads).fill(null)));
    const cell = layer * this.heads + head;
    if (cells[cell]) return;
    cells[cell] = coords;
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
