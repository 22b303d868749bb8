import type { SenderReport } from './rtcp.ts';

/** What alignment needs of a sender report (RFC 3550 6.4.1): the sender's wall clock against its RTP clock. */
export type ReportClock = Pick<SenderReport, 'ntpMs' | 'rtpTimestamp'>;

/** A report-based offset that moves this little from the one in use is left alone (report jitter, not drift). */
const REALIGN_MS = 20;

/** Milliseconds from `from` to `to`, two 32-bit RTP timestamps of a `clockRate` clock (the signed short way round). */
function rtpSpanMs(from: number, to: number, clockRate: number): number {
  return (((to - from) | 0) * 1000) / clockRate;
}

/**
 * Puts a second track of one RTP sender (audio beside its video) on the first track's millisecond timeline. With a
 * sender report of each track, times follow the sender's wall clock (RFC 3550 lip sync); until then, the second track's
 * first packet is placed at its arrival relative to the first track's latest frame. Units of the second track carry
 * times counted from its own first packet (its depacketizer's clock); `place` adds the offset that moves them over.
 * When the reports move the second track earlier than it was, the units that would go back in time are dropped: a
 * short gap once, never two units at one time. Later reports move it again only by more than REALIGN_MS.
 */
export class TrackSync {
  private reference: { rtpTimestamp: number; ms: number; arrivalMs: number } | undefined;
  /** Where the first track's timeline stood at one arrival before it had a frame, if its sender said. */
  private start: { ms: number; arrivalMs: number } | undefined;
  private referenceReport: ReportClock | undefined;
  private ownReport: ReportClock | undefined;
  private offsetMs: number | undefined;
  /** True while the offset reflects the latest pair of reports. */
  private fromReports = false;
  private aligned = false;
  private lastMs = -Infinity;

  /** `onAligned` hears, once, how far the first pair of reports moved the track from its arrival times (ms, + = later). */
  constructor(
    private readonly clockRate: number,
    private readonly referenceClockRate: number,
    private readonly onAligned: (shiftMs: number) => void = () => {},
  ) {}

  /** Whether the offset comes from both tracks' sender reports (else from arrival times). */
  get synced(): boolean {
    return this.referenceReport !== undefined && this.ownReport !== undefined;
  }

  /** A frame of the first track: its RTP timestamp, its time on the timeline, and when it arrived (performance.now()). */
  noteReference(rtpTimestamp: number, ms: number, arrivalMs: number): void {
    this.reference = { rtpTimestamp: rtpTimestamp >>> 0, ms, arrivalMs };
  }

  /**
   * Before the first track has a frame: its timeline stands at `ms` at `arrivalMs`. A second-track unit that comes
   * first is then placed by its arrival against this, instead of waiting for a frame.
   */
  noteStart(ms: number, arrivalMs: number): void {
    this.start ??= { ms, arrivalMs };
  }

  /** A sender report of the first track; a newer report refines the offset at the next unit. */
  noteReferenceReport(report: ReportClock): void {
    this.referenceReport = report;
    this.fromReports = false;
  }

  /** A sender report of the second track. */
  noteOwnReport(report: ReportClock): void {
    this.ownReport = report;
    this.fromReports = false;
  }

  /**
   * The second track's sender restarted (a new SSRC, a new random RTP base): its report and the offset no longer hold,
   * so its units go by arrival against the first track's latest frame until its new sender's report comes. Units still
   * never go back in time.
   */
  restartOwn(): void {
    this.ownReport = undefined;
    this.startOver();
  }

  /** The first track's sender restarted: its report and latest frame say nothing of its new timestamps. */
  restartReference(): void {
    this.reference = undefined;
    this.referenceReport = undefined;
    this.startOver();
  }

  private startOver(): void {
    this.offsetMs = undefined;
    this.fromReports = false;
  }

  /**
   * The timeline time of a second-track unit: `unitMs` from its own clock, `rtpTimestamp` as sent, `arrivalMs` when it
   * came. Undefined before the first track has a frame or a start (nothing to place it against), and for a unit that
   * would not come after the last one placed.
   */
  place(unitMs: number, rtpTimestamp: number, arrivalMs: number): number | undefined {
    const reference = this.reference;
    const anchor = reference ?? this.start;
    if (!anchor) return undefined;
    this.offsetMs ??= anchor.ms + (arrivalMs - anchor.arrivalMs) - unitMs;
    if (reference && !this.fromReports && this.referenceReport && this.ownReport) {
      // The unit's wall-clock time less the reference frame's, from each track's own report.
      const ownNtp = this.ownReport.ntpMs + rtpSpanMs(this.ownReport.rtpTimestamp, rtpTimestamp >>> 0, this.clockRate);
      const referenceNtp = this.referenceReport.ntpMs + rtpSpanMs(this.referenceReport.rtpTimestamp, reference.rtpTimestamp, this.referenceClockRate);
      const reported = reference.ms + (ownNtp - referenceNtp) - unitMs;
      this.fromReports = true;
      if (!this.aligned) {
        this.aligned = true;
        this.onAligned(reported - this.offsetMs);
        this.offsetMs = reported;
      } else if (Math.abs(reported - this.offsetMs) > REALIGN_MS) {
        this.offsetMs = reported;
      }
    }
    const ms = unitMs + this.offsetMs;
    if (ms <= this.lastMs) return undefined;
    this.lastMs = ms;
    return ms;
  }
}
