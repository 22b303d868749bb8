import type { SenderReport } from '../../media/rtp/rtcp.ts';

/** Where a track's own timeline (ms from its first frame) stood at one instant of the camera's wall clock. */
export interface ClockPoint {
  readonly trackMs: number;
  readonly ntpMs: number;
}

/**
 * One track's latest sender report placed on the track's own timeline: the report names an RTP timestamp, the track
 * knows the time of its latest frame and that frame's RTP timestamp, and the difference is in the track's clock rate.
 */
export class ReportedClock {
  private report: SenderReport | undefined;
  private lastFrame: { readonly rtpTimestamp: number; readonly trackMs: number } | undefined;

  constructor(private readonly clockRate: number) {}

  onReport(report: SenderReport | undefined): void {
    if (report) this.report = report;
  }

  onFrame(rtpTimestamp: number, trackMs: number): void {
    this.lastFrame = { rtpTimestamp, trackMs };
  }

  /** The latest report on the track's timeline; undefined before a report and a frame have both arrived. */
  get point(): ClockPoint | undefined {
    if (!this.report || !this.lastFrame) return undefined;
    const step = (this.report.rtpTimestamp - this.lastFrame.rtpTimestamp) | 0; // signed 32-bit, as RTP time wraps
    return { trackMs: this.lastFrame.trackMs + (step * 1000) / this.clockRate, ntpMs: this.report.ntpMs };
  }
}

/**
 * The session's one clock for all its tracks. Until sender reports say otherwise, each track's time counts from its
 * first packet, placed at that packet's arrival after the session's first packet of any track (so the first track
 * starts at 0). Once the video track and another both have a sender report, the other's times are where the camera's
 * wall clock puts them against the video: a camera whose sound leaves later than its picture stays in sync.
 */
export class SessionClock {
  private origin: number | undefined;
  private video: { readonly anchorMs: number; readonly clock: ReportedClock } | undefined;

  /** Milliseconds from the session's first packet to `now`. */
  since(now: number): number {
    this.origin ??= now;
    return now - this.origin;
  }

  /** The video track's timeline, the one the others are aligned to: its first frame at `anchorMs`. */
  setVideo(anchorMs: number, clock: ReportedClock): void {
    this.video = { anchorMs, clock };
  }

  /** What to add to another track's times to put them on the video's timeline; undefined until both have reports. */
  offsetOf(track: ReportedClock): number | undefined {
    const video = this.video?.clock.point;
    const other = track.point;
    if (!video || !other || !this.video) return undefined;
    return this.video.anchorMs + video.trackMs - video.ntpMs + other.ntpMs - other.trackMs;
  }
}
