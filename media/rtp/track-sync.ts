/** The wall-clock time and RTP timestamp of one RTCP sender report (RFC 3550 6.4.1). */
export interface SenderClock {
  /** The report's NTP time in milliseconds. */
  readonly ntpMs: number;
  readonly rtpTimestamp: number;
}

const RTCP_SENDER_REPORT = 200;
const NTP_FRACTION = 2 ** 32;

/** The sender report of `ssrc` in a compound RTCP packet, or undefined (none, another sender's, or malformed). */
export function readSenderClock(data: Buffer, ssrc: number): SenderClock | undefined {
  let offset = 0;
  while (offset + 4 <= data.length) {
    const words = data.readUInt16BE(offset + 2);
    const end = offset + (words + 1) * 4;
    if ((data[offset]! >> 6) !== 2 || end > data.length) return undefined;
    if (data[offset + 1] === RTCP_SENDER_REPORT && end - offset >= 28 && data.readUInt32BE(offset + 4) === ssrc >>> 0) {
      const seconds = data.readUInt32BE(offset + 8);
      const fraction = data.readUInt32BE(offset + 12);
      return { ntpMs: seconds * 1000 + (fraction / NTP_FRACTION) * 1000, rtpTimestamp: data.readUInt32BE(offset + 16) };
    }
    offset = end;
  }
  return undefined;
}

/** Milliseconds from `from` to `to`, two 32-bit RTP timestamps of a `clockRate` clock (the signed short way round). */
function rtpSpanMs(from: number, to: number, clockRate: number): number {
  return (((to - from) | 0) * 1000) / clockRate;
}

/**
 * Puts a second track of one RTP sender (audio beside its video) on the first track's millisecond timeline. With a
 * sender report of each track, times follow the sender's wall clock (RFC 3550 lip sync); until then, the second track's
 * first packet is placed at its arrival relative to the first track's latest frame. Units of the second track carry
 * times counted from its own first packet (its depacketizer's clock); `place` adds the offset that moves them over.
 * When the first reports move the second track earlier than arrival times had put it, the units that would go back in
 * time are dropped: a short gap once, never two units at one time.
 */
export class TrackSync {
  private reference: { rtpTimestamp: number; ms: number; arrivalMs: number } | undefined;
  private referenceReport: SenderClock | undefined;
  private ownReport: SenderClock | undefined;
  private offsetMs: number | undefined;
  /** True while the offset is the one the latest pair of reports gives. */
  private fromReports = false;
  private lastMs = -Infinity;

  constructor(private readonly clockRate: number, private readonly referenceClockRate: number) {}

  /** Whether the offset comes from both tracks' sender reports (else from arrival times). */
  get synced(): boolean {
    return this.referenceReport !== undefined && this.ownReport !== undefined;
  }

  /** A frame of the first track: its RTP timestamp, its time on the timeline, and when it arrived (performance.now()). */
  noteReference(rtpTimestamp: number, ms: number, arrivalMs: number): void {
    this.reference = { rtpTimestamp: rtpTimestamp >>> 0, ms, arrivalMs };
  }

  /** A sender report of the first track; a newer report refines the offset at the next unit. */
  noteReferenceReport(report: SenderClock): void {
    this.referenceReport = report;
    this.fromReports = false;
  }

  /** A sender report of the second track. */
  noteOwnReport(report: SenderClock): void {
    this.ownReport = report;
    this.fromReports = false;
  }

  /**
   * The timeline time of a second-track unit: `unitMs` from its own clock, `rtpTimestamp` as sent, `arrivalMs` when it
   * came. Undefined before the first track has a frame (nothing to place it against), and for a unit that would not
   * come after the last one placed.
   */
  place(unitMs: number, rtpTimestamp: number, arrivalMs: number): number | undefined {
    const reference = this.reference;
    if (!reference) return undefined;
    if (!this.fromReports && this.referenceReport && this.ownReport) {
      // The unit's wall-clock time less the reference frame's, from each track's own report.
      const ownNtp = this.ownReport.ntpMs + rtpSpanMs(this.ownReport.rtpTimestamp, rtpTimestamp >>> 0, this.clockRate);
      const referenceNtp = this.referenceReport.ntpMs + rtpSpanMs(this.referenceReport.rtpTimestamp, reference.rtpTimestamp, this.referenceClockRate);
      this.offsetMs = reference.ms + (ownNtp - referenceNtp) - unitMs;
      this.fromReports = true;
    }
    this.offsetMs ??= reference.ms + (arrivalMs - reference.arrivalMs) - unitMs;
    const ms = unitMs + this.offsetMs;
    if (ms <= this.lastMs) return undefined;
    this.lastMs = ms;
    return ms;
  }
}
