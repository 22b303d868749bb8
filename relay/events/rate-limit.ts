/**
 * A token bucket of `perMinute` events, refilled evenly over the minute: a burst of state changes sends the first
 * `perMinute` and holds back the rest, counted, instead of flooding a receiver (or a pager).
 */
export class EventRateLimit {
  suppressedTotal = 0;
  private tokens: number | undefined;
  private updatedAt = 0;
  private suppressedSinceSent = 0;

  /** Undefined when the event is held back; else how many were held back since the last one admitted. */
  admit(now: number, perMinute: number): number | undefined {
    const elapsed = Math.max(0, now - this.updatedAt);
    this.tokens = Math.min(perMinute, (this.tokens ?? perMinute) + (elapsed * perMinute) / 60_000);
    this.updatedAt = now;
    if (this.tokens < 1) {
      this.suppressedTotal++;
      this.suppressedSinceSent++;
      return undefined;
    }
    this.tokens -= 1;
    const held = this.suppressedSinceSent;
    this.suppressedSinceSent = 0;
    return held;
  }
}
