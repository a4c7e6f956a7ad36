// Lets a worker's event loop run (a cancel message, an RPC call) between units of work.
// setTimeout(0) is clamped to 4 ms once nested a few times, which between the 72 heads of
// an analysis was a quarter of a second idle; a MessageChannel round trip is not clamped.

interface Port {
  onmessage: ((event: unknown) => void) | null;
  postMessage(message: null): void;
  unref?: () => void;
}
/** A global in browsers' workers and in Node; typed here because lib/ compiles without the DOM library. */
const Channel = (globalThis as unknown as { MessageChannel?: new () => { port1: Port; port2: Port } }).MessageChannel;
let channel: { port1: Port; port2: Port } | undefined;
const waiting: (() => void)[] = [];

export function yieldToEvents(): Promise<void> {
  if (!Channel) return new Promise((resolve) => setTimeout(resolve, 0));
  if (!channel) {
    channel = new Channel();
    channel.port1.onmessage = () => waiting.shift()?.();
    // Node: an open port would keep the process alive.
    channel.port1.unref?.();
    channel.port2.unref?.();
  }
  return new Promise((resolve) => {
    waiting.push(resolve);
    channel!.port2.postMessage(null);
  });
}
