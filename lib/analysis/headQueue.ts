// One queue of heads shared by this thread and helper workers: helpers take slices from the
// front, this thread single heads from the back, so all end together. A helper that fails
// gives its heads back (done here, slower, not lost) and takes no more.
import { throwIfAborted } from '../util/cancel';

export interface HeadQueueOptions<T> {
  /** Heads a helper takes at once. */
  perSlice: number;
  helpers: ((cells: number[]) => Promise<T[]>)[];
  /** One head on this thread. */
  here: (cell: number) => Promise<T> | T;
  signal?: AbortSignal;
  /** Awaited after each head here: a worker yields so a cancel message can arrive. */
  afterHead?: () => Promise<void>;
}

export async function drainHeads<T>(total: number, options: HeadQueueOptions<T>): Promise<T[]> {
  const queue = Array.from({ length: total }, (_, c) => c);
  const results: T[] = [];
  const helperLoop = async (helper: (cells: number[]) => Promise<T[]>) => {
    while (queue.length) {
      const cells = queue.splice(0, options.perSlice);
      try {
        results.push(...(await helper(cells)));
      } catch (error) {
        if (options.signal?.aborted) throw error;
        queue.push(...cells);
        return;
      }
    }
  };
  const here = async () => {
    while (queue.length) {
      throwIfAborted(options.signal);
      results.push(await options.here(queue.pop()!));
      await options.afterHead?.();
    }
  };
  const helped = options.helpers.map(helperLoop);
  // A cancel ends this thread's loop first; the helpers' rejections are then not left unhandled.
  for (const h of helped) h.catch(() => {});
  await here();
  await Promise.all(helped);
  // Heads a helper gave back after this thread's queue ran dry.
  await here();
  return results;
}
