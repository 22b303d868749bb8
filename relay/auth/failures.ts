/** Addresses remembered at most; past this the least recently failing ones are forgotten first. */
const MAX_ADDRESSES = 10_000;
/** A failure older than this no longer slows an address down. */
const FORGET_AFTER_MS = 15 * 60_000;
const BASE_DELAY_MS = 250;
const MAX_DELAY_MS = 8_000;

/**
 * Failed logins per client address: each failure doubles the delay before the next answer to that address (250 ms,
 * 500 ms, ... up to 8 s), so guessing passwords from one address gets slow while other addresses are unaffected.
 */
export class FailedLogins {
  private readonly byAddress = new Map<string, { count: number; lastAt: number }>();
  /** Failures since start, all addresses, for /metrics. */
  total = 0;

  constructor(private readonly now: () => number = Date.now) {}

  /** How long to hold the next answer to this address, ms. */
  delayFor(address: string): number {
    const entry = this.byAddress.get(address);
    if (!entry) return 0;
    if (this.now() - entry.lastAt > FORGET_AFTER_MS) {
      this.byAddress.delete(address);
      return 0;
    }
    return Math.min(MAX_DELAY_MS, BASE_DELAY_MS * 2 ** Math.min(entry.count - 1, 16));
  }

  /** Records a failure; returns the address's failure count. */
  fail(address: string): number {
    this.total++;
    const entry = this.byAddress.get(address);
    const count = entry && this.now() - entry.lastAt <= FORGET_AFTER_MS ? entry.count + 1 : 1;
    // Re-inserting keeps the Map in order of last failure, so the oldest is the first key.
    this.byAddress.delete(address);
    this.byAddress.set(address, { count, lastAt: this.now() });
    while (this.byAddress.size > MAX_ADDRESSES) this.byAddress.delete(this.byAddress.keys().next().value!);
    return count;
  }

  /** A successful login clears the address's record. */
  succeed(address: string): void {
    this.byAddress.delete(address);
  }

  /** Addresses currently remembered. */
  get size(): number {
    return this.byAddress.size;
  }
}
