/** Audio that jumps this far from where its own spacing and the wall clock put it is re-based, not dropped. */
const MAX_AUDIO_JUMP_MS = 1_000;

/** Where an audio frame lands on the timeline: dropped (it went back a little), re-based (it jumped), or in step. */
export type AudioPlacement = { readonly time: number; readonly rebased: boolean } | undefined;

/** A source clock that disagrees with the wall clock by more than this has jumped (camera reboot, clock set). */
const MAX_DRIFT_MS = 10_000;

/**
 * Maps each run's source timestamps onto one timeline per camera that only increases: within a run the source's own
 * spacing is kept (network jitter does not become video jitter); a new run continues after the last frame with the
 * real outage as a gap; a source clock that jumps is re-anchored to the wall clock.
 */
export class SourceTimeline {
  private offset: number | undefined;
  private last = -1;
  private lastWall = 0;
  /** Audio shares the run's offset, and gets its own where the camera's audio clock jumped. */
  private audioOffset: number | undefined;
  private lastAudio = -1;
  private lastAudioWall = 0;

  /** The next frame starts a new run (reconnect): its clock has nothing to do with the last run's. */
  newRun(): void {
    this.offset = undefined;
    this.audioOffset = undefined;
  }

  map(sourceMs: number, wallMs: number): number {
    const expected = this.expectedAt(wallMs);
    if (this.offset === undefined || Math.abs(sourceMs + this.offset - expected) > MAX_DRIFT_MS) this.offset = expected - sourceMs;
    let time = sourceMs + this.offset;
    // Timestamps never go back: a source that repeats or reorders a time gets the next millisecond.
    if (time <= this.last) time = this.last + 1;
    this.last = time;
    this.lastWall = wallMs;
    return time;
  }

  /**
   * Puts an audio frame on the same timeline as the video of its run (same source clock, same offset). A frame that
   * goes back a little is dropped (audio has no reordering to do); one that jumps either way is re-based after the last.
   */
  mapAudio(sourceMs: number, wallMs: number): AudioPlacement {
    this.offset ??= this.expectedAt(wallMs) - sourceMs;
    this.audioOffset ??= this.offset;
    let time = sourceMs + this.audioOffset;
    let rebased = false;
    if (this.lastAudio >= 0) {
      const expected = this.lastAudio + Math.max(1, wallMs - this.lastAudioWall);
      if (Math.abs(time - expected) > MAX_AUDIO_JUMP_MS) {
        this.audioOffset = expected - sourceMs;
        time = expected;
        rebased = true;
      } else if (time <= this.lastAudio) return undefined;
    }
    this.lastAudio = time;
    this.lastAudioWall = wallMs;
    return { time, rebased };
  }

  private expectedAt(wallMs: number): number {
    return this.last < 0 ? 0 : this.last + Math.max(1, wallMs - this.lastWall);
  }
}

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
