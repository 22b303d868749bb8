/** Password verifications (scrypt) running at once: one core at most, and the rest of libuv's thread pool (4 threads) free for files. */
const MAX_RUNNING = 1;
/** Verifications waiting for a slot; past this a request is answered at once without hashing. */
const MAX_WAITING = 32;
/** Longest wait for a slot, ms; a request that waited this long is answered without hashing. */
const MAX_WAIT_MS = 2_000;

/**
 * Bounds the cost of password checks: one check at a time per client address (a second one from the same address is
 * refused at once, without hashing), at most MAX_RUNNING hashing at once for everyone, and a short first-come queue
 * behind them in which every address has at most one place. So a flood of wrong logins from one address costs one
 * hash at a time, and a flood from many addresses neither starves the thread pool nor queues without bound.
 */
export class VerificationGate {
  /** Requests answered without hashing because a bound was reached, for /metrics and tests. */
  refused = 0;
  private running = 0;
  private readonly waiting: Array<() => void> = [];
  private readonly addresses = new Set<string>();

  constructor(
    private readonly maxRunning = MAX_RUNNING,
    private readonly maxWaiting = MAX_WAITING,
    private readonly maxWaitMs = MAX_WAIT_MS,
  ) {}

  /**
   * Runs `check` for `address` once a slot is free (after `before`, e.g. the delay after failed logins, which holds the
   * address's place but no hashing slot); undefined, without running it, when a bound is reached.
   */
  async run<T>(address: string, check: () => Promise<T>, before: () => Promise<void> = async () => {}): Promise<T | undefined> {
    if (this.addresses.has(address)) return this.refuse();
    this.addresses.add(address);
    try {
      await before();
      if (!(await this.slot())) return this.refuse();
      try {
        return await check();
      } finally {
        this.running--;
        this.waiting.shift()?.();
      }
    } finally {
      this.addresses.delete(address);
    }
  }

  /** Checks running now. */
  get inFlight(): number {
    return this.running;
  }

  private refuse(): undefined {
    this.refused++;
    return undefined;
  }

  /** Takes a running slot, waiting in line for one if needed; false when the line is full or the wait too long. */
  private slot(): Promise<boolean> {
    if (this.running < this.maxRunning) {
      this.running++;
      return Promise.resolve(true);
    }
    if (this.waiting.length >= this.maxWaiting) return Promise.resolve(false);
    return new Promise((resolve) => {
      const grant = (): void => {
        clearTimeout(timer);
        this.running++;
        resolve(true);
      };
      const timer = setTimeout(() => {
        const at = this.waiting.indexOf(grant);
        if (at >= 0) this.waiting.splice(at, 1);
        resolve(false);
      }, this.maxWaitMs);
      this.waiting.push(grant);
    });
  }
}
