import type { H264Unit, H264Track } from '../../media/types.ts';

/** A frame placed on a packager's own timeline, in milliseconds. */
export interface TimedFrame {
  readonly frame: H264Unit;
  readonly pts: number;
  readonly dts: number;
  /** The first frame of a new track (the first ever, or after an encoder restart). */
  readonly newTrack: boolean;
}

/** Where the timeline starts, so that presentation times ahead of decode times never go below zero. */
const TIMELINE_START_MS = 10_000;
const DEFAULT_FRAME_MS = 40;

/**
 * Maps each track's timestamps onto one timeline that only moves forward: a new track (encoder restart) continues one
 * frame after the last frame of the old one, so that segments and fragments never go back in time. Frames of a new
 * track before its first keyframe, and frames whose decode time does not advance, are refused. With `maxStepMs`, a gap
 * longer than that (an outage or stall of a camera whose frames come faster) is closed up to one frame's duration.
 */
export class FrameTimeline {
  private track: H264Track | undefined;
  private offset = 0;
  private lastDts: number | undefined;
  /** A running estimate of one frame's duration, for the last frame of a track (whose successor never comes). */
  typicalDuration = DEFAULT_FRAME_MS;

  constructor(private readonly maxStepMs = Number.POSITIVE_INFINITY) {}

  /** Where a camera time lands on this timeline now (the current track's offset); undefined before the first track. */
  toTimeline(cameraMs: number): number | undefined {
    return this.track ? cameraMs + this.offset : undefined;
  }

  place(frame: H264Unit): TimedFrame | undefined {
    if (!Number.isFinite(frame.dts) || !Number.isFinite(frame.pts)) return undefined;
    if (frame.track !== this.track) {
      if (!frame.keyframe) return undefined;
      this.track = frame.track;
      const start = this.lastDts === undefined ? TIMELINE_START_MS : this.lastDts + this.typicalDuration;
      this.offset = start - frame.dts;
      this.lastDts = start;
      return { frame, dts: start, pts: frame.pts + this.offset, newTrack: true };
    }
    let dts = frame.dts + this.offset;
    if (this.lastDts !== undefined && dts <= this.lastDts) return undefined;
    if (this.lastDts !== undefined && dts - this.lastDts > this.maxStepMs && this.typicalDuration <= this.maxStepMs) {
      // One frame lasting longer than an LL-HLS part target would make a part longer than the playlist promises.
      this.offset -= dts - this.lastDts - this.typicalDuration;
      dts = this.lastDts + this.typicalDuration;
    }
    if (this.lastDts !== undefined) {
      const step = Math.min(1000, dts - this.lastDts);
      this.typicalDuration = this.typicalDuration * 0.9 + step * 0.1;
    }
    this.lastDts = dts;
    return { frame, dts, pts: Math.max(dts, frame.pts + this.offset), newTrack: false };
  }
}
