// Every head layout of the shown result, outside React: the projection scheduler writes
// layouts as they arrive (computed or from the cache) and epoch ticks as UMAP runs; views
// subscribe and redraw only when a layout they show changed, and the status line re-renders
// only when its text does.
import type { NormalizationMode } from '@/lib/analysis/normalize';
import type { ProjectionMethod } from '@/lib/projection/project';

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
  private started = performance.now();
  /** Milliseconds from the store's start to the moment a slot had every head. */
  readonly completedAt = new Map<string, number>();
  readonly computed: Record<ProjectionMethod, number> = { pca: 0, umap: 0 };
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

  set(view: LayoutView, layer: number, head: number, coords: Float32Array, from: 'computed' | 'cache'): void {
    const slot = viewSlot(view);
    let cells = this.layouts.get(slot);
    if (!cells) this.layouts.set(slot, (cells = new Array(this.layers * this.heads).fill(null)));
    const cell = layer * this.heads + head;
    if (cells[cell]) return;
    cells[cell] = coords;
    if (from === 'computed') this.computed[view.method]++;
    else this.cached++;
    this.versions.set(slot, (this.versions.get(slot) ?? 0) + 1);
    if (this.epoch?.slot === slot && this.epoch.layer === layer && this.epoch.head === head) this.epoch = null;
    if (!this.completedAt.has(slot) && cells.every(Boolean)) this.completedAt.set(slot, performance.now() - this.started);
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
