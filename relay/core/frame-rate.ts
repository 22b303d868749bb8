/** Timestamps kept for measuring a camera's frame interval: about two seconds at 25 fps. */
const WINDOW = 50;
/** Intervals longer than this many times the median are outages or reconnects, not the camera's rate. */
const GAP_FACTOR = 3;

/**
 * Measures a camera's frame interval from the timestamps of the frames it keeps: the mean of the recent intervals,
 * leaving out gaps (outages), so an encoder can be told the camera's real rate rather than its time base.
 */
export class FrameIntervalMeter {
  private readonly times: number[] = [];

  add(timestampMs: number): void {
    this.times.push(timestampMs);
    if (this.times.length > WINDOW) this.times.shift();
  }

  /** The recent mean frame interval in ms, or undefined until three intervals are known. */
  get intervalMs(): number | undefined {
    const intervals: number[] = [];
    for (let i = 1; i < this.times.length; i++) {
      const step = this.times[i]! - this.times[i - 1]!;
      if (step > 0) intervals.push(step);
    }
    if (intervals.length < 3) return undefined;
    const median = [...intervals].sort((a, b) => a - b)[Math.floor(intervals.length / 2)]!;
    const steady = intervals.filter((step) => step <= median * GAP_FACTOR);
    return steady.reduce((sum, step) => sum + step, 0) / steady.length;
  }
}

/**
 * InputFrameRate: keeps frames due on a fixed cadence (not an interval after the last kept one, which keeps 8.3 of a
 * 25 fps camera's frames for InputFrameRate 10); a quarter interval of slack absorbs timing jitter.
 */
export class InputRateGate {
  private nextDue = -Infinity;

  /** Whether the frame at `timestampMs` is kept at `rate` frames per second. */
  admit(timestampMs: number, rate: number): boolean {
    const interval = 1000 / rate;
    if (timestampMs < this.nextDue - interval / 4) return false;
    // A frame late by a whole interval or more (slower camera, outage) restarts the cadence from itself rather than
    // letting a burst through; one merely late keeps the cadence, or the on-time frame after it would be dropped.
    this.nextDue = (timestampMs - this.nextDue >= interval ? timestampMs : this.nextDue) + interval;
    return true;
  }
}
