// The worker RPC runtime between an in-process client and server joined by a fake port pair
// (structured clone and transfer as a browser does them): results, progress, errors with
// their kind, cancel (confirmed, and forced after the grace period), a crash, a respawn.
import { describe, expect, it } from 'vitest';
import {
  CallCancelledError,
  RpcError,
  type ScopeLike,
  WorkerClient,
  type WorkerLike,
  WorkerCrashedError,
  WorkerRestartedError,
  serve,
} from '../../../lib/worker/rpc';

type TestApi = {
  square: { args: { values: Float32Array }; result: { values: Float32Array }; progress: { done: number } };
  fail: { args: { kind: string }; result: never; progress: never };
  wait: { args: { ms: number; checkEvery: number }; result: string; progress: never };
  hang: { args: { ms: number }; result: string; progress: never };
};

class KindError extends Error {
  constructor(
    message: string,
    readonly kind: string,
  ) {
    super(message);
  }
}

/** A worker and its scope in one process: messages are cloned, transferred buffers detached. */
function fakeWorker(setup: (scope: ScopeLike) => void, log: { transfers: number; terminated: number }) {
  return (): WorkerLike => {
    let terminated = false;
    const deliver = (to: { onmessage: ((e: { data: unknown }) => void) | null }, message: unknown, transfer: ArrayBuffer[] = []) => {
      log.transfers += transfer.length;
      const data = structuredClone(message, { transfer });
      setTimeout(() => !terminated && to.onmessage?.({ data }), 0);
    };
    const scope: ScopeLike = { onmessage: null, postMessage: (m, t) => deliver(worker, m, t) };
    const worker: WorkerLike = {
      onmessage: null,
      onerror: null,
      postMessage: (m, t) => deliver(scope, m, t),
      terminate: () => {
        terminated = true;
        log.terminated++;
      },
    };
    setup(scope);
    (worker as unknown as { crash: () => void }).crash = () => worker.onerror?.({ message: 'boom' });
    return worker;
  };
}

function testServer(scope: ScopeLike) {
  serve<TestApi>(
    scope,
    {
      square: ({ values }, context) => {
        const out = values.map((v) => v * v);
        context.progress({ done: out.length });
        context.transfer(out.buffer as ArrayBuffer);
        return { values: out };
      },
      fail: ({ kind }) => {
        throw new KindError(`failed as ${kind}`, kind);
      },
      wait: async ({ ms, checkEvery }, context) => {
        const end = Date.now() + ms;
        while (Date.now() < end) {
          await new Promise((r) => setTimeout(r, checkEvery));
          if (context.signal.aborted) throw Object.assign(new Error('stopped'), { name: 'CancelledError' });
        }
        return 'waited';
      },
      // Never looks at its signal: only terminating the worker ends it.
      hang: ({ ms }) => new Promise((r) => setTimeout(() => r('late'), ms)),
    },
    (e) => (e instanceof KindError ? e.kind : undefined),
  );
}

describe('worker RPC', () => {
  it('returns results, moves transferred buffers, reports progress', async () => {
    const log = { transfers: 0, terminated: 0 };
    const client = new WorkerClient<TestApi>(fakeWorker(testServer, log), 'test');
    const input = new Float32Array([1, 2, 3]);
    const progress: number[] = [];
    const out = await client.call('square', { values: input }, { transfer: [input.buffer], onProgress: (p) => progress.push(p.done) });
    expect(Array.from(out.values)).toEqual([1, 4, 9]);
    expect(input.byteLength).toBe(0);
    expect(progress).toEqual([3]);
    expect(log.transfers).toBe(2);
    await client.ready;
  });

  it('rejects with the handler’s message and kind', async () => {
    const client = new WorkerClient<TestApi>(fakeWorker(testServer, { transfers: 0, terminated: 0 }), 'test');
    const error = await client.call('fail', { kind: 'corpus' }).catch((e) => e);
    expect(error).toBeInstanceOf(RpcError);
    expect(error.message).toBe('failed as corpus');
    expect(error.kind).toBe('corpus');
  });

  it('cancels a call that checks its signal, and terminates one that does not after the grace period', async () => {
    const log = { transfers: 0, terminated: 0 };
    const client = new WorkerClient<TestApi>(fakeWorker(testServer, log), 'test');
    const polite = new AbortController();
    const waiting = client.call('wait', { ms: 5000, checkEvery: 5 }, { signal: polite.signal });
    setTimeout(() => polite.abort(), 20);
    await expect(waiting).rejects.toBeInstanceOf(CallCancelledError);
    expect(log.terminated).toBe(0);

    const stuck = new AbortController();
    const hanging = client.call('hang', { ms: 5000 }, { signal: stuck.signal, graceMs: 30 });
    // Another call on the same worker, which nobody cancelled.
    const bystander = client.call('hang', { ms: 5000 });
    const started = Date.now();
    stuck.abort();
    await expect(hanging).rejects.toBeInstanceOf(CallCancelledError);
    await expect(bystander).rejects.toBeInstanceOf(WorkerRestartedError);
    expect(Date.now() - started).toBeLessThan(1000);
    expect(log.terminated).toBe(1);
    // A new worker takes the next call.
    expect((await client.call('square', { values: new Float32Array([2]) })).values[0]).toBe(4);
  });

  it('fails every pending call once when the worker crashes, then starts a new one', async () => {
    const workers: WorkerLike[] = [];
    const spawn = fakeWorker(testServer, { transfers: 0, terminated: 0 });
    const client = new WorkerClient<TestApi>(() => {
      const w = spawn();
      workers.push(w);
      return w;
    }, 'test');
    const a = client.call('hang', { ms: 5000 });
    const b = client.call('hang', { ms: 5000 });
    expect(client.busy).toBe(2);
    (workers[0] as unknown as { crash: () => void }).crash();
    await expect(a).rejects.toBeInstanceOf(WorkerCrashedError);
    await expect(b).rejects.toThrow('The test worker crashed (boom).');
    expect(client.busy).toBe(0);
    expect((await client.call('square', { values: new Float32Array([3]) })).values[0]).toBe(9);
    expect(workers).toHaveLength(2);
  });
});
