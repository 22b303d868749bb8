import { performance } from 'node:perf_hooks';

/**
 * Passes log lines on at most once per interval per kind, and says how many were held back, so a camera that repeats
 * the same oddity at frame rate cannot flood the relay's log.
 */
export class RateLimitedLog {
  private readonly lastAt = new Map<string, number>();
  private readonly suppressed = new Map<string, number>();

  constructor(
    private readonly log: (message: string) => void,
    private readonly intervalMs: number,
  ) {}

  /** Logs `message` unless a line of the same `kind` went out less than an interval ago. */
  note(kind: string, message: string): void {
    const now = performance.now();
    const last = this.lastAt.get(kind);
    if (last !== undefined && now - last < this.intervalMs) {
      this.suppressed.set(kind, (this.suppressed.get(kind) ?? 0) + 1);
      return;
    }
    const held = this.suppressed.get(kind) ?? 0;
    this.lastAt.set(kind, now);
    this.suppressed.delete(kind);
    this.log(held > 0 ? `${message} (and ${held} more like it)` : message);
  }
}
