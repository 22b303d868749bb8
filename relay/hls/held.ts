/** How a held request ended. */
export type HeldOutcome = 'ready' | 'timeout' | 'gone' | 'full' | 'closed';

interface Waiter {
  readonly ready: () => boolean;
  readonly finish: (outcome: HeldOutcome) => void;
}

/**
 * Requests waiting for something a packager has not made yet (a blocking playlist reload, the hinted next part, the
 * first segment). Their number is bounded, in all and per client address (so that one client cannot take every
 * place), each waits a bounded time, a client that leaves frees its place at once, and close() answers all of them.
 */
export class HeldRequests {
  private readonly waiters = new Set<Waiter>();
  private readonly perAddress = new Map<string, number>();
  private closed = false;

  constructor(
    private readonly max: number,
    private readonly maxPerAddress = max,
  ) {}

  get size(): number {
    return this.waiters.size;
  }

  /** Resolves when `ready()` holds (checked on each `check()`), after `timeoutMs`, or when `signal` aborts. */
  wait(ready: () => boolean, timeoutMs: number, signal: AbortSignal, address = ''): Promise<HeldOutcome> {
    if (this.closed) return Promise.resolve('closed');
    if (ready()) return Promise.resolve('ready');
    const fromAddress = this.perAddress.get(address) ?? 0;
    if (this.waiters.size >= this.max || fromAddress >= this.maxPerAddress) return Promise.resolve('full');
    if (signal.aborted) return Promise.resolve('gone');
    this.perAddress.set(address, fromAddress + 1);
    return new Promise((resolve) => {
      const finish = (outcome: HeldOutcome): void => {
        clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
        this.waiters.delete(waiter);
        const left = (this.perAddress.get(address) ?? 1) - 1;
        if (left > 0) this.perAddress.set(address, left);
        else this.perAddress.delete(address);
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
