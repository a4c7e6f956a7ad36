// A pool of projection workers (cores − 1, at least one), each projecting whole heads.
// Tasks run by priority (PCA before UMAP, the selected head's UMAP before the others);
// results stream back as they finish. Cancel terminates the workers, which frees their
// memory at once; new ones start on the next task.
import type { ProjectionReply, ProjectTask } from '@/lib/protocol/projection';
import type { ProjectionParams } from '@/lib/projection/project';

export interface HeadTask {
  layer: number;
  head: number;
  params: ProjectionParams;
  /** Builds the head's joint vectors when the task starts (they are transferred away). */
  joint: () => Float32Array;
  dim: number;
  priority: number;
}

export interface PoolEvents {
  onDone(task: HeadTask, coords: Float32Array, ms: number): void;
  onProgress(task: HeadTask, epoch: number, epochs: number): void;
  onError(task: HeadTask, message: string): void;
}

export function poolSize(): number {
  const cores = typeof navigator !== 'undefined' ? navigator.hardwareConcurrency || 2 : 2;
  return Math.max(1, cores - 1);
}

export class ProjectionPool {
  private queue: HeadTask[] = [];
  private idle: Worker[] = [];
  private busy = new Map<Worker, { id: number; task: HeadTask }>();
  private workers: Worker[] = [];
  private nextId = 1;

  constructor(
    private events: PoolEvents,
    readonly size = poolSize(),
  ) {}

  submit(tasks: HeadTask[]): void {
    this.queue.push(...tasks);
    this.queue.sort((a, b) => a.priority - b.priority);
    this.pump();
  }

  /** Moves matching queued tasks to the front (e.g. the head a person selected). */
  prioritize(match: (t: HeadTask) => boolean): void {
    for (const t of this.queue) if (match(t)) t.priority = -1;
    this.queue.sort((a, b) => a.priority - b.priority);
  }

  get pending(): number {
    return this.queue.length + this.busy.size;
  }

  cancel(): void {
    this.queue = [];
    for (const w of this.workers) w.terminate();
    this.workers = [];
    this.idle = [];
    this.busy.clear();
  }

  private spawn(): Worker {
    const worker = new Worker(new URL('../../workers/projection.worker.ts', import.meta.url), { type: 'module' });
    worker.onmessage = (event: MessageEvent<ProjectionReply>) => {
      const job = this.busy.get(worker);
      const reply = event.data;
      if (!job || reply.id !== job.id) return;
      if (reply.type === 'progress') {
        this.events.onProgress(job.task, reply.epoch, reply.epochs);
        return;
      }
      this.busy.delete(worker);
      this.idle.push(worker);
      if (reply.type === 'done') this.events.onDone(job.task, reply.coords, reply.ms);
      else this.events.onError(job.task, reply.message);
      this.pump();
    };
    worker.onerror = (event) => {
      event.preventDefault();
      const job = this.busy.get(worker);
      this.busy.delete(worker);
      this.workers = this.workers.filter((w) => w !== worker);
      worker.terminate();
      if (job) this.events.onError(job.task, `the projection worker crashed (${event.message || 'no message'})`);
      this.pump();
    };
    this.workers.push(worker);
    return worker;
  }

  private pump(): void {
    while (this.queue.length) {
      const worker = this.idle.pop() ?? (this.workers.length < this.size ? this.spawn() : null);
      if (!worker) return;
      const task = this.queue.shift()!;
      const id = this.nextId++;
      this.busy.set(worker, { id, task });
      const joint = task.joint();
      const message: ProjectTask = { type: 'project', id, layer: task.layer, head: task.head, joint, dim: task.dim, params: task.params };
      worker.postMessage(message, [joint.buffer]);
    }
  }
}
