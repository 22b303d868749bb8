/** How a held request ended. */
export type HeldOutcome = 'ready' | 'timeout' | 'gone' | 'full' | 'closed';

interface Waiter {
  readonly ready: () => boolean;
  readonly finish: (outcome: HeldOutcome) => void;
}

/**
 * Requests waiting for something a packager has not made yet (a blocking playlist reload, the hinted next part, the
 * first segment). Their number is bounded, each waits a bounded time, a client that leaves frees its place at once,
 * and close() answers all of them.
 */
export class HeldRequests {
  private readonly waiters = new Set<Waiter>();
  private closed = false;

  constructor(private readonly max: number) {}

  get size(): number {
    return this.waiters.size;
  }

  /** Resolves when `ready()` holds (checked on each `check()`), after `timeoutMs`, or when `signal` aborts. */
  wait(ready: () => boolean, timeoutMs: number, signal: AbortSignal): Promise<HeldOutcome> {
    if (this.closed) return Promise.resolve('closed');
    if (ready()) return Promise.resolve('ready');
    if (this.waiters.size >= this.max) return Promise.resolve('full');
    if (signal.aborted) return Promise.resolve('gone');
    return new Promise((resolve) => {
      const finish = (outcome: HeldOutcome): void => {
        clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
        this.waiters.delete(waiter);
        resolve(outcome);
      };
      const waiter: Waiter = { ready, finish };
      const timer = setTimeout(() => finish('timeout'), timeoutMs);
      const onAbort = (): void => finish('gone');
      signal.addEventListener('abort', onAbort, { once: true });
      this.waiters.add(waiter);
    });
  }

  /** Releases every waiter whose condition now holds; called after each change of the packager. */
  check(): void {
    for (const waiter of [...this.waiters]) if (waiter.ready()) waiter.finish('ready');
  }

  /** Answers every waiter (shutdown) and refuses new ones. */
  close(): void {
    this.closed = true;
    for (const waiter of [...this.waiters]) waiter.finish('closed');
  }
}
