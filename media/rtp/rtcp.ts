import { randomBytes } from 'node:crypto';
import type { RtpPacket } from './rtp.ts';

const PT_SENDER_REPORT = 200;
const PT_RECEIVER_REPORT = 201;
const PT_SDES = 202;
/** Compound packets in one datagram or interleaved frame are few; this bounds the walk over hostile input. */
const MAX_PACKETS_PER_COMPOUND = 32;

/** A sender report: the fields a receiver report echoes back, and the sender's wall clock against its RTP clock. */
export interface SenderReport {
  readonly middleNtp: number;
  readonly receivedAtMs: number;
  /** The sender's NTP wall-clock time, in ms since 1900. */
  readonly ntpMs: number;
  /** The RTP timestamp of the same instant. */
  readonly rtpTimestamp: number;
}

/**
 * Reads a compound RTCP packet and returns the sender report in it (with `ssrc`, the report of that sender only), if
 * any; ignores anything malformed.
 */
export function findSenderReport(data: Buffer, nowMs: number, ssrc?: number): SenderReport | undefined {
  let offset = 0;
  for (let count = 0; count < MAX_PACKETS_PER_COMPOUND && offset + 4 <= data.length; count++) {
    if (data[offset]! >> 6 !== 2) return undefined;
    const type = data[offset + 1]!;
    const bytes = (data.readUInt16BE(offset + 2) + 1) * 4;
    if (offset + bytes > data.length) return undefined;
    if (type === PT_SENDER_REPORT && bytes >= 28 && (ssrc === undefined || data.readUInt32BE(offset + 4) === ssrc >>> 0)) {
      const middleNtp = ((data.readUInt16BE(offset + 10) << 16) | data.readUInt16BE(offset + 12)) >>> 0;
      const ntpMs = data.readUInt32BE(offset + 8) * 1000 + (data.readUInt32BE(offset + 12) * 1000) / 0x1_0000_0000;
      return { middleNtp, receivedAtMs: nowMs, ntpMs, rtpTimestamp: data.readUInt32BE(offset + 16) };
    }
    offset += bytes;
  }
  return undefined;
}

/**
 * Keeps the reception statistics of one RTP source (RFC 3550 appendix A.3 and A.8) and writes receiver reports,
 * which tell the camera the client is alive and how the stream arrives.
 */
export class ReceiverReporter {
  readonly ssrc = randomBytes(4).readUInt32BE(0);
  private readonly cname = `relay-${randomBytes(4).toString('hex')}`;
  private sourceSsrc = 0;
  private started = false;
  private baseSequence = 0;
  private maxSequence = 0;
  private cycles = 0;
  private received = 0;
  private expectedPrior = 0;
  private receivedPrior = 0;
  private jitter = 0;
  private lastTransit: number | undefined;
  private lastSenderReport: SenderReport | undefined;

  constructor(private readonly clockRate: number) {}

  /** Counts one arriving RTP packet (before reordering, as the statistics describe the network). */
  onRtp(packet: RtpPacket, arrivalMs: number): void {
    if (!this.started || packet.ssrc !== this.sourceSsrc) {
      this.started = true;
      this.sourceSsrc = packet.ssrc;
      this.baseSequence = this.maxSequence = packet.sequence;
      this.cycles = this.received = this.expectedPrior = this.receivedPrior = this.jitter = 0;
      this.lastTransit = undefined;
    }
    this.received++;
    const step = (packet.sequence - this.maxSequence) & 0xffff;
    if (step > 0 && step < 0x8000) {
      if (packet.sequence < this.maxSequence) this.cycles += 0x10000;
      this.maxSequence = packet.sequence;
    }
    const transit = (arrivalMs * this.clockRate) / 1000 - packet.timestamp;
    if (this.lastTransit !== undefined) {
      const difference = Math.abs(transit - this.lastTransit);
      this.jitter += (difference - this.jitter) / 16;
    }
    this.lastTransit = transit;
  }

  /**
   * Notes a sender report from the camera (with `ssrc`, from that sender only), so the next receiver report can echo
   * its time; returns it, if there was one.
   */
  onRtcp(data: Buffer, nowMs: number, ssrc?: number): SenderReport | undefined {
    const report = findSenderReport(data, nowMs, ssrc);
    this.lastSenderReport = report ?? this.lastSenderReport;
    return report;
  }

  /** A compound RTCP packet: one receiver report (with a block once a source is known) and an SDES CNAME. */
  buildReport(nowMs: number): Buffer {
    const blocks: Buffer[] = [];
    if (this.started) {
      const extendedMax = this.cycles + this.maxSequence;
      const expected = extendedMax - this.baseSequence + 1;
      const lost = Math.max(-0x800000, Math.min(0x7fffff, expected - this.received));
      const expectedInterval = expected - this.expectedPrior;
      const lostInterval = expectedInterval - (this.received - this.receivedPrior);
      this.expectedPrior = expected;
      this.receivedPrior = this.received;
      const fraction = expectedInterval <= 0 || lostInterval <= 0 ? 0 : Math.floor((lostInterval << 8) / expectedInterval);
      const block = Buffer.alloc(24);
      block.writeUInt32BE(this.sourceSsrc, 0);
      block.writeUInt32BE((((fraction & 0xff) << 24) | (lost & 0xffffff)) >>> 0, 4);
      block.writeUInt32BE(extendedMax >>> 0, 8);
      block.writeUInt32BE(Math.min(Math.floor(this.jitter), 0xffffffff) >>> 0, 12);
      if (this.lastSenderReport) {
        block.writeUInt32BE(this.lastSenderReport.middleNtp, 16);
        const delay = Math.floor(((nowMs - this.lastSenderReport.receivedAtMs) * 65536) / 1000);
        block.writeUInt32BE(Math.min(Math.max(delay, 0), 0xffffffff) >>> 0, 20);
      }
      blocks.push(block);
    }
    const report = Buffer.alloc(8);
    report[0] = 0x80 | blocks.length;
    report[1] = PT_RECEIVER_REPORT;
    report.writeUInt16BE(1 + blocks.length * 6, 2);
    report.writeUInt32BE(this.ssrc, 4);
    return Buffer.concat([report, ...blocks, this.buildSdes()]);
  }

  private buildSdes(): Buffer {
    const name = Buffer.from(this.cname, 'ascii');
    const itemBytes = 2 + name.length + 1; // CNAME item, then the END item
    const padded = Math.ceil((4 + itemBytes) / 4) * 4;
    const sdes = Buffer.alloc(4 + padded);
    sdes[0] = 0x81;
    sdes[1] = PT_SDES;
    sdes.writeUInt16BE(padded / 4, 2);
    sdes.writeUInt32BE(this.ssrc, 4);
    sdes[8] = 1;
    sdes[9] = name.length;
    name.copy(sdes, 10);
    return sdes;
  }
}
