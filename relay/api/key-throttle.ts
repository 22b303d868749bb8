/** Bad keys an address may send before its key-bearing requests are slowed down. */
const FREE_FAILURES = 3;
const BASE_DELAY_MS = 250;
const MAX_DELAY_MS = 4000;
/** An address's failures are forgotten this long after its last one. */
const FORGET_AFTER_MS = 10 * 60 * 1000;
/** Addresses remembered at most; the oldest is forgotten first, so a spray of addresses cannot grow memory. */
const MAX_ADDRESSES = 10_000;

/**
 * Slows down guessing of publish keys: after a few bad keys from one address, each of its requests that carries a key
 * waits before it is checked, doubling up to a few seconds.
 */
export class KeyThrottle {
  private readonly failures = new Map<string, { count: number; lastAt: number }>();

  constructor(private readonly onSlowed: (address: string) => void = () => {}) {}

  /** How long a request from `address` waits now, ms. */
  delayFor(address: string, now = Date.now()): number {
    const entry = this.failures.get(address);
    if (!entry) return 0;
    if (now - entry.lastAt > FORGET_AFTER_MS) {
      this.failures.delete(address);
      return 0;
    }
    if (entry.count < FREE_FAILURES) return 0;
    return Math.min(MAX_DELAY_MS, BASE_DELAY_MS * 2 ** Math.min(entry.count - FREE_FAILURES, 8));
  }

  /** Waits as long as delayFor says. */
  async wait(address: string): Promise<void> {
    const delay = this.delayFor(address);
    if (delay > 0) await new Promise((resolve) => setTimeout(resolve, delay));
  }

  /** Records a bad key from `address`. */
  fail(address: string, now = Date.now()): void {
    const entry = this.failures.get(address) ?? { count: 0, lastAt: now };
    this.failures.delete(address); // re-inserted last: Map order is then oldest-failure first
    entry.count++;
    entry.lastAt = now;
    this.failures.set(address, entry);
    if (entry.count === FREE_FAILURES) this.onSlowed(address);
    while (this.failures.size > MAX_ADDRESSES) this.failures.delete(this.failures.keys().next().value!);
  }

  /** A good key clears the address's record. */
  succeed(address: string): void {
    this.failures.delete(address);
  }
}
