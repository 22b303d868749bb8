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

  /** The next frame starts a new run (reconnect): its clock has nothing to do with the last run's. */
  newRun(): void {
    this.offset = undefined;
  }

  map(sourceMs: number, wallMs: number): number {
    const expected = this.last < 0 ? 0 : this.last + Math.max(1, wallMs - this.lastWall);
    if (this.offset === undefined || Math.abs(sourceMs + this.offset - expected) > MAX_DRIFT_MS) this.offset = expected - sourceMs;
    let time = sourceMs + this.offset;
    // Timestamps never go back: a source that repeats or reorders a time gets the next millisecond.
    if (time <= this.last) time = this.last + 1;
    this.last = time;
    this.lastWall = wallMs;
    return time;
  }
}
