/** Keys remembered at most; the least recently charged goes first, so a spray of addresses cannot grow memory. */
const MAX_KEYS = 10_000;

/**
 * A token bucket per key (a file, a client address): `burst` packaging runs at once, then one more every
 * `refillMs`. take() charges one run, or says how long until one is allowed.
 */
export class PackagingBudget {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();

  constructor(
    private readonly burst: number,
    private readonly refillMs: number,
  ) {}

  /** Whether a run for `key` may start now (and charges it); false leaves the bucket as it was. */
  canTake(key: string, now = Date.now()): boolean {
    return this.tokensAt(key, now) >= 1;
  }

  /** Charges one run to `key`. */
  take(key: string, now = Date.now()): void {
    const tokens = this.tokensAt(key, now) - 1;
    this.buckets.delete(key); // re-inserted last: Map order is then least recently charged first
    this.buckets.set(key, { tokens, at: now });
    while (this.buckets.size > MAX_KEYS) this.buckets.delete(this.buckets.keys().next().value!);
  }

  /** Milliseconds until `key` may start a run, 0 when it may now. */
  waitMs(key: string, now = Date.now()): number {
    const tokens = this.tokensAt(key, now);
    return tokens >= 1 ? 0 : Math.ceil((1 - tokens) * this.refillMs);
  }

  private tokensAt(key: string, now: number): number {
    const bucket = this.buckets.get(key);
    if (!bucket) return this.burst;
    return Math.min(this.burst, bucket.tokens + (now - bucket.at) / this.refillMs);
  }
}
