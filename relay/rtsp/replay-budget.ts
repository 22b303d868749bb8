/** How far back the stream's own rate is measured. */
const RATE_WINDOW_MS = 5000;
/** Samples kept for the rate: a frame each, far more than a stream sends in the window. */
const MAX_RATE_SAMPLES = 2000;
/** Kept frames an address may be replayed, at most this multiple of the stream's own rate. */
const REPLAY_RATE_FACTOR = 2;

/** A stream's live byte rate over the last few seconds (kept frames sent again at a start do not count). */
export class ByteRate {
  private readonly samples: Array<{ at: number; bytes: number }> = [];
  private total = 0;

  add(bytes: number, now: number): void {
    this.samples.push({ at: now, bytes });
    this.total += bytes;
    if (this.samples.length > MAX_RATE_SAMPLES) this.total -= this.samples.shift()!.bytes;
  }

  /** Bytes per second; 0 while nothing was measured. A stream that was stopped in the window counts low, never high. */
  perSecond(now: number): number {
    while (this.samples.length > 0 && now - this.samples[0]!.at > RATE_WINDOW_MS) this.total -= this.samples.shift()!.bytes;
    const first = this.samples[0];
    if (!first) return 0;
    return (this.total * 1000) / Math.max(1000, now - first.at);
  }
}

/**
 * What each client address may be sent of a stream's kept frames (the group from the last keyframe, sent at once to
 * a reader that starts): the first start is free, then the debt is paid back at twice the stream's own rate before
 * another replay. A client that starts and stops over and over (PLAY/PAUSE, or SETUP/PLAY/TEARDOWN) waits for live
 * keyframes instead, so its requests cannot turn into more than the stream's rate.
 */
export class ReplayBudgets {
  private readonly debts = new Map<string, { debt: number; at: number }>();

  constructor(private readonly rate: (now: number) => number) {}

  /** True (and the bytes are charged) when `address` may be replayed `bytes` of kept frames now. */
  take(address: string, bytes: number, now: number): boolean {
    const debt = this.debtOf(address, now);
    if (debt > 0) {
      this.debts.set(address, { debt, at: now });
      return false;
    }
    this.debts.set(address, { debt: bytes, at: now });
    return true;
  }

  /** Forgets the addresses that owe nothing. */
  sweep(now: number): void {
    for (const address of [...this.debts.keys()]) if (this.debtOf(address, now) <= 0) this.debts.delete(address);
  }

  private debtOf(address: string, now: number): number {
    const entry = this.debts.get(address);
    if (!entry) return 0;
    return entry.debt - ((now - entry.at) / 1000) * REPLAY_RATE_FACTOR * this.rate(now);
  }
}
