import { randomBytes } from 'node:crypto';
import { ReceptionStats, type RtpPacket } from './rtp.ts';

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
 * Writes receiver reports of one RTP source (RFC 3550 6.4.2), which tell the camera the client is alive and how the
 * stream arrives: the statistics are counted in `reception` as packets arrive (by a reorderer made with
 * `RtpReorderer.counting`, or by `onRtp`), so this class is used only when RTCP comes in or goes out.
 */
export class ReceiverReporter {
  readonly ssrc = randomBytes(4).readUInt32BE(0);
  private readonly cname = `relay-${randomBytes(4).toString('hex')}`;
  readonly reception: ReceptionStats;
  private lastSenderReport: SenderReport | undefined;

  constructor(clockRate: number) {
    this.reception = new ReceptionStats(clockRate);
  }

  /** Counts one arriving RTP packet, for a source whose packets pass no counting reorderer. */
  onRtp(packet: RtpPacket, arrivalMs: number): void {
    this.reception.count(packet, arrivalMs);
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
    const figures = this.reception.takeBlock();
    if (figures) {
      const block = Buffer.alloc(24);
      block.writeUInt32BE(figures.ssrc, 0);
      block.writeUInt32BE((((figures.fractionLost & 0xff) << 24) | (figures.cumulativeLost & 0xffffff)) >>> 0, 4);
      block.writeUInt32BE(figures.extendedMax >>> 0, 8);
      block.writeUInt32BE(Math.min(figures.jitter, 0xffffffff) >>> 0, 12);
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
