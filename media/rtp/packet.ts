/** RTP payload bytes kept per packet: with the 12-byte header and 4 bytes of interleaved framing, well under a 1500-byte MTU. */
export const MAX_RTP_PAYLOAD = 1400;

/** One payload of an RTP packet before its header is written; `marker` ends a video frame (RFC 3551). */
export interface RtpPayload {
  readonly payload: Buffer;
  readonly marker: boolean;
}

/** Writes an RTP packet (RFC 3550) with a plain 12-byte header: version 2, no padding, extension or CSRC. */
export function buildRtpPacket(fields: { payloadType: number; sequence: number; timestamp: number; ssrc: number; marker: boolean }, payload: Buffer): Buffer {
  const packet = Buffer.allocUnsafe(12 + payload.length);
  packet[0] = 0x80;
  packet[1] = (fields.marker ? 0x80 : 0) | (fields.payloadType & 0x7f);
  packet.writeUInt16BE(fields.sequence & 0xffff, 2);
  packet.writeUInt32BE(fields.timestamp >>> 0, 4);
  packet.writeUInt32BE(fields.ssrc >>> 0, 8);
  payload.copy(packet, 12);
  return packet;
}

/** Seconds between the NTP epoch (1900) and the Unix epoch (1970). */
const NTP_UNIX_OFFSET = 2_208_988_800;

/** What a sender report says about one sender towards one receiver. */
export interface SenderReportFields {
  readonly ssrc: number;
  readonly wallClockMs: number;
  readonly rtpTimestamp: number;
  readonly packets: number;
  readonly octets: number;
  readonly cname: string;
}

/**
 * A compound RTCP packet: a sender report (RFC 3550 6.4.1) with no report blocks, then an SDES with the CNAME, which
 * receivers use to map RTP time to wall-clock time and to see the sender is alive.
 */
export function buildSenderReport(fields: SenderReportFields): Buffer {
  const report = Buffer.alloc(28);
  report[0] = 0x80;
  report[1] = 200;
  report.writeUInt16BE(6, 2);
  report.writeUInt32BE(fields.ssrc >>> 0, 4);
  const seconds = Math.floor(fields.wallClockMs / 1000);
  report.writeUInt32BE((seconds + NTP_UNIX_OFFSET) >>> 0, 8);
  report.writeUInt32BE(Math.floor(((fields.wallClockMs % 1000) / 1000) * 2 ** 32) >>> 0, 12);
  report.writeUInt32BE(fields.rtpTimestamp >>> 0, 16);
  report.writeUInt32BE(fields.packets >>> 0, 20);
  report.writeUInt32BE(fields.octets >>> 0, 24);
  const name = Buffer.from(fields.cname.slice(0, 255), 'ascii');
  const padded = Math.ceil((4 + 2 + name.length + 1) / 4) * 4;
  const sdes = Buffer.alloc(4 + padded);
  sdes[0] = 0x81;
  sdes[1] = 202;
  sdes.writeUInt16BE(padded / 4, 2);
  sdes.writeUInt32BE(fields.ssrc >>> 0, 4);
  sdes[8] = 1;
  sdes[9] = name.length;
  name.copy(sdes, 10);
  return Buffer.concat([report, sdes]);
}
