// One request/reply runtime for every worker (model, corpus counting, projection, bench):
// calls carry ids, typed arrays travel in transfer lists, errors come back as rejections,
// progress as callbacks, and a crashed or terminated worker fails its pending calls once
// and is replaced on the next call. Structural types only, so this runs in Node tests too.

/** The part of a Worker (or MessagePort) the client uses. */
export interface WorkerLike {
  postMessage(message: unknown, transfer?: ArrayBuffer[]): void;
  onmessage: ((event: { data: unknown }) => void) | null;
  onerror: ((event: { message?: string; preventDefault?: () => void }) => void) | null;
  terminate(): void;
}

/** The part of a worker's global scope the server uses. */
export interface ScopeLike {
  postMessage(message: unknown, transfer?: ArrayBuffer[]): void;
  onmessage: ((event: { data: unknown }) => void) | null;
}

/** A worker's API: method name → its arguments, result and progress messages. */
export type Api = Record<string, { args: unknown; result: unknown; progress: unknown }>;

type Request = { rpc: 'call'; id: number; method: string; args: unknown } | { rpc: 'cancel'; id: number };
type Reply =
  | { rpc: 'ready' }
  | { rpc: 'progress'; id: number; data: unknown }
  | { rpc: 'result'; id: number; value: unknown }
  | { rpc: 'error'; id: number; error: { name: string; message: string; kind?: string } };

/** A handler's error, carried across: its message, and a kind the UI can act on. */
export class RpcError extends Error {
  constructor(
    message: string,
    readonly kind?: string,
  ) {
    super(message);
  }
}
export class WorkerCrashedError extends Error {}
/** A call lost because its worker was terminated to stop another call: nothing was wrong with it; call again. */
export class WorkerRestartedError extends Error {}
/** A call ended by its signal (the worker confirmed, or was terminated after the grace period). */
export class CallCancelledError extends Error {
  constructor(message = 'cancelled') {
    super(message);
  }
}

/** How long a cancelled call may take to confirm before its worker is terminated. */
export const CANCEL_GRACE_MS = 800;

export interface CallOptions<P> {
  transfer?: ArrayBuffer[];
  onProgress?: (progress: P) => void;
  /** Aborting asks the worker to stop; after `graceMs` without an answer the worker is terminated. */
  signal?: AbortSignal;
  graceMs?: number;
}

interface Pending {
  resolve(value: unknown): void;
  reject(error: Error): void;
  onProgress?: (progress: unknown) => void;
  timer?: ReturnType<typeof setTimeout>;
  /** Detaches the call's abort listener once it has settled. */
  detach?: () => void;
}

export class WorkerClient<A extends Api> {
  private worker: WorkerLike | null = null;
  private pending = new Map<number, Pending>();
  private nextId = 1;
  /** Resolves when the current worker has loaded and said so. */
  ready: Promise<void> = Promise.resolve();

  constructor(
    private spawnWorker: () => WorkerLike,
    readonly name: string,
  ) {}

  /** Calls in flight. */
  get busy(): number {
    return this.pending.size;
  }

  call<M extends keyof A & string>(method: M, args: A[M]['args'], options: CallOptions<A[M]['progress']> = {}): Promise<A[M]['result']> {
    const worker = this.worker ?? this.spawn();
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const entry: Pending = { resolve, reject, onProgress: options.onProgress as Pending['onProgress'] };
      this.pending.set(id, entry);
      const { signal } = options;
      if (signal) {
        const abort = () => {
          if (!this.pending.has(id) || this.worker !== worker) return;
          worker.postMessage({ rpc: 'cancel', id } satisfies Request);
          entry.timer = setTimeout(() => {
            // Stuck inside a long synchronous step: drop the worker, which frees its memory too.
            // Its other calls were not cancelled: they fail as restarted, for their callers to retry.
            if (!this.pending.has(id) || this.worker !== worker) return;
            const cancelled = this.pending.get(id)!;
            this.pending.delete(id);
            this.terminate(new WorkerRestartedError(`The ${this.name} worker was restarted to stop another call.`));
            cancelled.reject(new CallCancelledError());
          }, options.graceMs ?? CANCEL_GRACE_MS);
        };
        if (signal.aborted) queueMicrotask(abort);
        else {
          signal.addEventListener('abort', abort, { once: true });
          entry.detach = () => signal.removeEventListener('abort', abort);
        }
      }
      worker.postMessage({ rpc: 'call', id, method, args } satisfies Request, options.transfer ?? []);
    });
  }

  /** Ends the worker; its pending calls reject with `reason`. The next call starts a new one. */
  terminate(reason: Error = new CallCancelledError()): void {
    this.worker?.terminate();
    this.worker = null;
    this.failAll(reason);
  }

  private failAll(reason: Error): void {
    const calls = [...this.pending.values()];
    this.pending.clear();
    for (const c of calls) {
      clearTimeout(c.timer);
      c.detach?.();
      c.reject(reason);
    }
  }

  private spawn(): WorkerLike {
    const worker = this.spawnWorker();
    let markReady: () => void = () => {};
    this.ready = new Promise((resolve) => (markReady = resolve));
    worker.onmessage = (event) => {
      const reply = event.data as Reply;
      if (reply.rpc === 'ready') return markReady();
      const call = this.pending.get(reply.id);
      if (!call) return;
      if (reply.rpc === 'progress') {
        call.onProgress?.(reply.data);
        return;
      }
      this.pending.delete(reply.id);
      clearTimeout(call.timer);
      call.detach?.();
      if (reply.rpc === 'result') call.resolve(reply.value);
      else if (reply.error.name === 'CancelledError') call.reject(new CallCancelledError());
      else call.reject(new RpcError(reply.error.message, reply.error.kind));
    };
    worker.onerror = (event) => {
      event.preventDefault?.();
      if (this.worker !== worker) return;
      this.worker = null;
      worker.terminate();
      this.failAll(new WorkerCrashedError(`The ${this.name} worker crashed (${event.message || 'no message'}).`));
    };
    this.worker = worker;
    return worker;
  }
}

export interface CallContext<P> {
  signal: AbortSignal;
  progress(data: P, transfer?: ArrayBuffer[]): void;
  /** Buffers of the result to move, not copy, back to the caller. */
  transfer(...buffers: ArrayBuffer[]): void;
}

export type Handlers<A extends Api> = {
  [M in keyof A]: (args: A[M]['args'], context: CallContext<A[M]['progress']>) => Promise<A[M]['result']> | A[M]['result'];
};

/** Serves `handlers` on a worker's scope; `kindOf` names an error for the caller (e.g. 'corpus', 'model'). */
export function serve<A extends Api>(scope: ScopeLike, handlers: Handlers<A>, kindOf?: (error: unknown) => string | undefined): void {
  const running = new Map<number, AbortController>();
  scope.onmessage = async (event) => {
    const request = event.data as Request;
    if (request.rpc === 'cancel') {
      running.get(request.id)?.abort();
      return;
    }
    const { id, method } = request;
    const controller = new AbortController();
    running.set(id, controller);
    const transfer: ArrayBuffer[] = [];
    const context: CallContext<unknown> = {
      signal: controller.signal,
      progress: (data, buffers) => scope.postMessage({ rpc: 'progress', id, data } satisfies Reply, buffers ?? []),
      transfer: (...buffers) => transfer.push(...buffers),
    };
    try {
      const handler = handlers[method as keyof A];
      if (!handler) throw new Error(`unknown method ${method}`);
      const value = await handler(request.args as never, context as never);
      scope.postMessage({ rpc: 'result', id, value } satisfies Reply, transfer);
    } catch (e) {
      const error = e instanceof Error ? e : new Error(String(e));
      // Class names do not survive minification; a cancelled handler is known by its signal or error name.
      const name = controller.signal.aborted || error.name === 'CancelledError' ? 'CancelledError' : error.name;
      scope.postMessage({ rpc: 'error', id, error: { name, message: error.message, kind: kindOf?.(e) } } satisfies Reply);
    } finally {
      running.delete(id);
    }
  };
  scope.postMessage({ rpc: 'ready' } satisfies Reply);
}
