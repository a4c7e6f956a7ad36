// Decides which head layouts to compute and runs them on a pool of projection workers
// (cores − 1, at least one). The views say what they show (want); for each (vectors, dims)
// shown it gets PCA of every head, then UMAP head by head — the focused head first, stopping
// a background UMAP task if every worker is busy with one — taking
// layouts from the browser cache where it has them. Switching views drops queued work the
// new view does not need; finished layouts are kept, so switching back recomputes nothing.
import type { PcaLayouts } from '@/lib/projection/pcaViews';
import type { NormalizationMode } from '@/lib/analysis/normalize';
import { projectionKey } from '@/lib/run/cacheKey';
import { DEFAULT_PROJECTION, type ProjectionMethod, type ProjectionParams } from '@/lib/projection/project';
import { openVectors } from '@/lib/browser/vectors';
import type { ProjectionApi } from '@/lib/protocol/projection';
import type { RunResult } from '@/lib/run/types';
import { CallCancelledError, WorkerClient } from '@/lib/worker/rpc';
import { loadHead, loadHeads, saveHead } from '../../lib/browser/layoutCache';
import { overviewOf } from '@/lib/views/lod';
import type { Cell } from '../state/viewStore';
import { type LayoutStore, type LayoutView, viewSlot } from './LayoutStore';

export const METHODS: ProjectionMethod[] = ['pca', 'umap'];

export function poolSize(): number {
  const cores = typeof navigator !== 'undefined' ? navigator.hardwareConcurrency || 2 : 2;
  return Math.max(1, cores - 1);
}

/**
 * Bytes of PCA tasks a worker may hold at once. A head's PCA takes ~20 ms, but its reply waits
 * for the page's main thread, which may be drawing a frame (hundreds of ms on a software
 * renderer): with the next tasks already in the worker, it never waits for the page. UMAP
 * tasks (seconds each) go one at a time, so a head a person opens never waits behind them.
 */
const PCA_PIPELINE_BYTES = 64 * 1024 ** 2;
const PCA_PIPELINE_MAX = 32;

interface Task {
  key: string;
  view: LayoutView;
  layer: number;
  head: number;
  priority: number;
  /** A head whose overview is in, wanted in full (a large run's focused or zoomed head, an export). */
  full?: boolean;
}

const taskKey = (v: LayoutView, l: number, h: number) => `${viewSlot(v)}|${l}|${h}`;
/** Full layouts asked for go before anything else. */
const FULL_PRIORITY = -3;

export class ProjectionScheduler {
  private queue: Task[] = [];
  private running = new Map<string, { task: Task; client: WorkerClient<ProjectionApi> }>();
  private clients: WorkerClient<ProjectionApi>[] = [];
  /** Task keys looked up in the cache and not found there. */
  private notCached = new Set<string>();
  private generation = 0;
  private disposed = false;
  /** Callers waiting for a head's full layout (exports), by task key. */
  private waiters = new Map<string, ((coords: Float32Array) => void)[]>();
  stopped = false;

  constructor(
    private result: RunResult,
    readonly layouts: LayoutStore,
    private model: string,
    private corpus: string,
    readonly size = poolSize(),
  ) {
    layouts.onWantFull = (view, layer, head) => void this.wantFull(view, layer, head);
  }

  /** False for a bundle opened without its vectors: it shows the layouts it came with and computes none. */
  get canCompute(): boolean {
    return this.result.vectors !== null;
  }

  get pending(): number {
    return this.queue.length + this.running.size;
  }

  /** Asks for everything `views` show; the focused head's layouts come first. */
  async want(views: LayoutView[], focus: Cell | null): Promise<void> {
    if (this.disposed) return;
    this.stopped = false;
    const generation = ++this.generation;
    const { layers, heads } = this.layouts;
    const needed: Task[] = [];
    const pairs = [...new Map(views.map((v) => [`${v.mode}|${v.dims}`, v])).values()];
    const shown = new Set(views.map(viewSlot));
    pairs.forEach((pair, p) => {
      for (const method of METHODS) {
        const view: LayoutView = { mode: pair.mode, method, dims: pair.dims };
        this.layouts.begin(view);
        for (let l = 0; l < layers; l++) {
          for (let h = 0; h < heads; h++) {
            const isFocus = focus?.layer === l && focus.head === h;
            // Focused head (shown method first), then PCA of every head, then UMAP in layer order.
            const priority = isFocus ? (shown.has(viewSlot(view)) ? -2 : -1) : (method === 'pca' ? 0 : 2) * 1e6 + p * 1e5 + l * heads + h;
            needed.push({ key: taskKey(view, l, h), view, layer: l, head: h, priority });
          }
        }
      }
    });
    const keep = new Map(needed.map((t) => [t.key, t]));
    this.queue = this.queue.filter((t) => keep.has(t.key));
    for (const t of this.queue) t.priority = keep.get(t.key)!.priority;
    const missing = needed.filter((t) => !this.layouts.has(t.view, t.layer, t.head) && !this.running.has(t.key) && !this.queue.some((q) => q.key === t.key));
    // The focused head starts at once; the cache is read one view at a time (one read each).
    this.enqueue(missing.filter((t) => t.priority < 0 && this.notCached.has(t.key)));
    const toCompute: Task[] = [];
    for (const view of [...new Map(missing.map((t) => [viewSlot(t.view), t.view])).values()]) {
      const unknown = missing.filter((t) => viewSlot(t.view) === viewSlot(view) && !this.notCached.has(t.key));
      const hits = unknown.length ? await loadHeads(this.overviewKeyOf(view), heads) : new Map<number, Float32Array>();
      if (this.disposed) return;
      for (const t of missing.filter((m) => viewSlot(m.view) === viewSlot(view))) {
        const hit = hits.get(t.layer * heads + t.head);
        if (hit) this.layouts.set(t.view, t.layer, t.head, hit, 'cache', !!this.layouts.sampling);
        else {
          this.notCached.add(t.key);
          toCompute.push(t);
        }
      }
    }
    if (generation !== this.generation || this.stopped) return;
    // A bundle opened without its vectors has the layouts it came with (and cached ones) only.
    if (!this.canCompute) return;
    this.enqueue(toCompute);
  }

  /** Takes PCA layouts computed elsewhere (with the run's analysis: full, or a large run's overviews) as if computed here: shown, and cached. */
  seed(computed: PcaLayouts[]): void {
    for (const { view: v, heads: coords, sampled } of computed) {
      const view: LayoutView = { mode: v.mode, method: 'pca', dims: v.dims };
      if (!sampled) {
        this.seedViews([{ view, heads: coords }]);
        continue;
      }
      this.layouts.begin(view);
      coords.forEach((c, cell) => {
        const [layer, head] = [Math.floor(cell / this.layouts.heads), cell % this.layouts.heads];
        this.layouts.set(view, layer, head, c, 'computed', true);
        void saveHead(this.overviewKeyOf(view), layer, head, c);
      });
    }
  }

  /** Full layouts made elsewhere (a bundle's): into the store, and its cache unless `cache` is false (a bundle is its own copy). */
  seedViews(computed: { view: LayoutView; heads: Float32Array[] }[], cache = true): void {
    const { heads } = this.layouts;
    for (const { view, heads: coords } of computed) {
      this.layouts.begin(view);
      coords.forEach((c, cell) => {
        const [layer, head] = [Math.floor(cell / heads), cell % heads];
        this.layouts.set(view, layer, head, c, 'computed');
        if (cache) this.cache(view, layer, head, c);
      });
    }
  }

  /** A head's full layout: held, cached, or computed now (exports of a large run; first in the queue). */
  fullLayout(view: LayoutView, layer: number, head: number): Promise<Float32Array> {
    const held = this.layouts.get(view, layer, head);
    if (held) return Promise.resolve(held);
    return new Promise((resolve) => {
      const key = taskKey(view, layer, head);
      this.waiters.set(key, [...(this.waiters.get(key) ?? []), resolve]);
      void this.wantFull(view, layer, head);
    });
  }

  /**
   * Every head's full layout of a view, each handed to `onHead` as it is in (held ones at once,
   * the rest read or computed — all asked for together, so the workers go from one to the next).
   */
  async eachFullLayout(view: LayoutView, onHead: (cell: number, coords: Float32Array) => void): Promise<void> {
    const { layers, heads } = this.layouts;
    const waits: Promise<void>[] = [];
    for (let c = 0; c < layers * heads; c++) {
      const [layer, head] = [Math.floor(c / heads), c % heads];
      const held = this.layouts.get(view, layer, head);
      if (held) onHead(c, held);
      else waits.push(this.fullLayout(view, layer, head).then((coords) => onHead(c, coords)));
    }
    await Promise.all(waits);
  }

  /** A large run's head wanted in full: from the cache, else computed before anything else. */
  private async wantFull(view: LayoutView, layer: number, head: number): Promise<void> {
    if (this.disposed || !this.canCompute) return;
    const key = `${taskKey(view, layer, head)}|full`;
    if (this.queue.some((q) => q.key === key) || this.running.has(key)) return;
    const cached = await loadHead(this.keyOf(view), layer, head);
    if (this.disposed) return;
    if (cached) return this.arrived({ key, view, layer, head, priority: FULL_PRIORITY, full: true }, cached, 'cache');
    this.stopped = false;
    this.enqueue([{ key, view, layer, head, priority: FULL_PRIORITY, full: true }]);
  }

  /** A head's layout is in: to the store (and whoever waits for it in full). */
  private arrived(task: Task, coords: Float32Array, from: 'computed' | 'cache'): void {
    this.layouts.set(task.view, task.layer, task.head, coords, from);
    const plain = taskKey(task.view, task.layer, task.head);
    for (const resolve of this.waiters.get(plain) ?? []) resolve(coords);
    this.waiters.delete(plain);
  }

  /** Caches a full layout (and, for a large run, its overview apart: a reopen reads only those). */
  private cache(view: LayoutView, layer: number, head: number, coords: Float32Array): void {
    void saveHead(this.keyOf(view), layer, head, coords);
    const sampling = this.layouts.sampling;
    if (sampling) void saveHead(this.overviewKeyOf(view), layer, head, overviewOf(coords, sampling.order, sampling.overviewPoints, view.dims));
  }

  /** Ends all projection work: queued tasks dropped, workers terminated (freeing their memory). */
  stop(): void {
    this.stopped = true;
    this.queue = [];
    this.running.clear();
    for (const c of this.clients) c.terminate();
    this.layouts.clearTick();
  }

  dispose(): void {
    this.stop();
    this.disposed = true;
  }

  private keyOf(view: LayoutView): string {
    return projectionKey(this.model, this.corpus, view.mode, this.params(view));
  }

  /** Where a view's overviews are cached: a large run's apart from its full layouts; a small run's overview is its full layout. */
  private overviewKeyOf(view: LayoutView): string {
    return this.layouts.sampling ? `${this.keyOf(view)}|overview` : this.keyOf(view);
  }

  private params(view: LayoutView): ProjectionParams {
    return { ...DEFAULT_PROJECTION, method: view.method, dims: view.dims };
  }

  private enqueue(tasks: Task[]): void {
    for (const t of tasks) {
      const done = t.full ? this.layouts.hasFull(t.view, t.layer, t.head) : this.layouts.has(t.view, t.layer, t.head);
      if (!this.queue.some((q) => q.key === t.key) && !this.running.has(t.key) && !done) this.queue.push(t);
    }
    this.queue.sort((a, b) => a.priority - b.priority);
    this.pump();
  }

  /** A worker that can take `task` now: an idle one, one holding only PCA tasks (for a PCA task), or a new one. */
  private client(task: Task): WorkerClient<ProjectionApi> | null {
    const load = (c: WorkerClient<ProjectionApi>) => [...this.running.values()].filter((r) => r.client === c).map((r) => r.task.view.method);
    const idle = this.clients.find((c) => load(c).length === 0);
    if (idle) return idle;
    if (this.clients.length < this.size) {
      const client = new WorkerClient<ProjectionApi>(
        () => new Worker(new URL('../../workers/projection.worker.ts', import.meta.url), { type: 'module', name: 'projection' }) as never,
        'projection',
      );
      this.clients.push(client);
      return client;
    }
    if (task.view.method !== 'pca') return null;
    const { tokenCount, headDim } = this.result.data;
    const depth = Math.max(1, Math.min(PCA_PIPELINE_MAX, Math.floor(PCA_PIPELINE_BYTES / (2 * tokenCount * headDim * 4))));
    return (
      this.clients.find((c) => {
        const l = load(c);
        return l.length < depth && l.every((m) => m === 'pca');
      }) ?? null
    );
  }

  private pump(): void {
    while (this.queue.length && !this.disposed) {
      const client = this.client(this.queue[0]) ?? (this.queue[0].priority < 0 ? this.preempt() : null);
      if (!client) return;
      const task = this.queue.shift()!;
      this.running.set(task.key, { task, client });
      void this.project(task, client);
    }
  }

  /** Frees a worker for the focused head by stopping a background UMAP task, which goes back in the queue. */
  private preempt(): WorkerClient<ProjectionApi> | null {
    const victim = [...this.running.values()].find((r) => r.task.priority >= 0 && r.task.view.method === 'umap');
    if (!victim) return null;
    this.running.delete(victim.task.key);
    this.queue.push(victim.task);
    this.queue.sort((a, b) => a.priority - b.priority);
    // A UMAP task runs alone on its worker, so only it is lost (and redone later).
    victim.client.terminate();
    this.layouts.clearTick();
    return victim.client;
  }

  private async project(task: Task, client: WorkerClient<ProjectionApi>): Promise<void> {
    const { data, analysis } = this.result;
    const norm = analysis.params[task.view.mode as NormalizationMode][task.layer * data.heads + task.head];
    try {
      // The head's vectors, read from the run's store (copies: they are moved to the worker).
      const { q, k } = await (await openVectors(this.result.vectors!)).head(task.layer * data.heads + task.head);
      if (this.disposed) return;
      const out = await client.call(
        'project',
        { layer: task.layer, head: task.head, q, k, norm, dim: data.headDim, params: this.params(task.view) },
        { transfer: [q.buffer, k.buffer] as ArrayBuffer[], onProgress: (p) => this.layouts.tick(task.view, task.layer, task.head, p.epoch, p.epochs) },
      );
      if (this.disposed) return;
      if (out.kernel) this.layouts.umapKernel = out.kernel;
      this.arrived(task, out.coords, 'computed');
      this.cache(task.view, task.layer, task.head, out.coords);
    } catch (e) {
      if (e instanceof CallCancelledError || this.disposed) return;
      this.layouts.fail(`L${task.layer} H${task.head} (${task.view.method}): ${(e as Error).message}`);
    } finally {
      if (this.running.get(task.key)?.client === client) this.running.delete(task.key);
      this.pump();
    }
  }
}
