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
