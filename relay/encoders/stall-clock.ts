/** ffmpeg that is fed for this long without writing anything is stuck and restarted. */
export const OUTPUT_STALL_MS = 20_000;
/** A pause in the camera's frames this long (an outage) restarts the clock: silence then is not ffmpeg's fault. */
export const INPUT_PAUSE_MS = 2_000;

/**
 * Tells a stuck encoder from a starved one: it is stuck only when it has been fed, without pause, for OUTPUT_STALL_MS
 * and has written nothing since. A frame held inside the encoder (its rate filter keeps one) across a camera outage
 * does not count the outage against it.
 */
export class StallClock {
  private unansweredSince: number | undefined;
  private lastWriteAt = -Infinity;

  fed(now: number): void {
    if (now - this.lastWriteAt > INPUT_PAUSE_MS) this.unansweredSince = undefined;
    this.lastWriteAt = now;
    this.unansweredSince ??= now;
  }

  answered(): void {
    this.unansweredSince = undefined;
  }

  stalled(now: number): boolean {
    if (this.unansweredSince === undefined || now - this.lastWriteAt > INPUT_PAUSE_MS) return false;
    return now - this.unansweredSince >= OUTPUT_STALL_MS;
  }
}
