// Cancellation, one way for every long step: an AbortSignal checked between units of work,
// and one error that says the work was stopped on purpose (not that it failed).

export class CancelledError extends Error {
  constructor() {
    super('cancelled');
    this.name = 'CancelledError';
  }
}

/** Throws CancelledError once `signal` has been aborted (a no-op without a signal). */
export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new CancelledError();
}
