// JS heap and ArrayBuffer memory of a page and every worker under it (workers the page
// starts and workers they start), from CDP: Target.setAutoAttach on each target (not
// flattened, so nested sessions are reached through Target.sendMessageToTarget), then
// Runtime.getHeapUsage — usedSize (JS heap) and backingStorageSize (ArrayBuffers,
// WebAssembly memories and external strings) — per target.
import type { CDPSession } from 'playwright-core';

interface Target {
  name: string;
  send(method: string, params?: object): Promise<unknown>;
}

export interface HeapSample {
  /** Sum over targets of JS heap + backing stores, bytes. */
  total: number;
  byTarget: Map<string, number>;
  /** Per target: its JS heap and its backing stores (ArrayBuffers, WebAssembly memories) apart. */
  parts: Map<string, { heap: number; backing: number }>;
}

type Listener = (method: string, params: Record<string, unknown>) => void;

export class HeapUsage {
  private readonly targets = new Map<string, Target>();
  private nextId = 1;

  private constructor(private readonly root: CDPSession) {}

  static async attach(root: CDPSession): Promise<HeapUsage> {
    const usage = new HeapUsage(root);
    const page: Target = { name: 'page', send: (m, p) => root.send(m as never, p as never) };
    usage.targets.set('page', page);
    await usage.watch(page, (listener) => {
      for (const event of ['Target.attachedToTarget', 'Target.detachedFromTarget', 'Target.receivedMessageFromTarget']) {
        root.on(event as never, ((params: Record<string, unknown>) => listener(event, params)) as never);
      }
    });
    return usage;
  }

  /** Routes a target's events: new children become targets (and are watched in turn), replies resolve. */
  private async watch(parent: Target, subscribe: (listener: Listener) => void): Promise<void> {
    const replies = new Map<number, (v: unknown) => void>();
    const childListeners = new Map<string, Listener>();
    subscribe((method, params) => {
      if (method === 'Target.attachedToTarget') {
        const sessionId = params.sessionId as string;
        const info = params.targetInfo as { title?: string; url?: string; type: string };
        const name = `${info.type} ${info.title || info.url?.split('/').pop() || sessionId}`;
        const child: Target = {
          name,
          send: (m, p) =>
            new Promise((resolve) => {
              const id = this.nextId++;
              replies.set(id, resolve);
              void parent
                .send('Target.sendMessageToTarget', { sessionId, message: JSON.stringify({ id, method: m, params: p ?? {} }) })
                .catch(() => resolve(null));
              setTimeout(() => resolve(null), 5000);
            }),
        };
        this.targets.set(sessionId, child);
        void this.watch(child, (l) => childListeners.set(sessionId, l));
      } else if (method === 'Target.detachedFromTarget') {
        this.targets.delete(params.sessionId as string);
      } else if (method === 'Target.receivedMessageFromTarget') {
        const message = JSON.parse(params.message as string) as { id?: number; result?: unknown; method?: string; params?: Record<string, unknown> };
        if (message.id !== undefined) {
          replies.get(message.id)?.(message.result ?? null);
          replies.delete(message.id);
        } else if (message.method) childListeners.get(params.sessionId as string)?.(message.method, message.params ?? {});
      }
    });
    await parent.send('Target.setAutoAttach', { autoAttach: true, waitForDebuggerOnStart: false, flatten: false }).catch(() => {});
  }

  async sample(): Promise<HeapSample> {
    const byTarget = new Map<string, number>();
    const parts = new Map<string, { heap: number; backing: number }>();
    let total = 0;
    await Promise.all(
      [...this.targets.values()].map(async (t) => {
        const u = (await t.send('Runtime.getHeapUsage').catch(() => null)) as { usedSize: number; backingStorageSize?: number } | null;
        if (!u) return;
        const bytes = u.usedSize + (u.backingStorageSize ?? 0);
        byTarget.set(t.name, (byTarget.get(t.name) ?? 0) + bytes);
        parts.set(t.name, { heap: u.usedSize, backing: u.backingStorageSize ?? 0 });
        total += bytes;
      }),
    );
    return { total, byTarget, parts };
  }
}
