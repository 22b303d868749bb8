const NTP_UNIX_OFFSET = 2_208_988_800;
const PT_SENDER_REPORT = 200;
const PT_RECEIVER_REPORT = 201;
const REPORT_BLOCK_BYTES = 24;
/** Compound packets in one datagram are few; this bounds the walk over hostile input. */
const MAX_PACKETS_PER_COMPOUND = 32;
/** A longer round trip is a stale or forged report (or a clock step), not a measurement. */
const MAX_ROUND_TRIP_MS = 60_000;

/** The middle 32 bits of the NTP time of a wall-clock time (what a sender report's LSR echoes). */
export function middleNtp(wallClockMs: number): number {
  const seconds = (Math.floor(wallClockMs / 1000) + NTP_UNIX_OFFSET) >>> 0;
  const fraction = Math.floor(((wallClockMs % 1000) / 1000) * 2 ** 32) >>> 0;
  return (((seconds & 0xffff) << 16) | (fraction >>> 16)) >>> 0;
}

/**
 * The round-trip time (ms) told by a receiver report block about `ssrc` in an RTCP compound packet: arrival minus the
 * echoed sender report time (LSR) minus the receiver's delay since it (DLSR), RFC 3550 6.4.1. Undefined when no block
 * echoes a sender report; anything malformed ends the walk, it never throws.
 */
export function roundTripFromReports(data: Buffer, ssrc: number, nowMs: number): number | undefined {
  let at = 0;
  for (let count = 0; count < MAX_PACKETS_PER_COMPOUND && at + 4 <= data.length; count++) {
    if (data[at]! >> 6 !== 2) return undefined;
    const blocks = data[at]! & 0x1f;
    const type = data[at + 1]!;
    const length = (data.readUInt16BE(at + 2) + 1) * 4;
    if (at + length > data.length) return undefined;
    const first = type === PT_RECEIVER_REPORT ? at + 8 : type === PT_SENDER_REPORT ? at + 28 : -1;
    for (let block = 0; first >= 0 && block < blocks && first + (block + 1) * REPORT_BLOCK_BYTES <= at + length; block++) {
      const offset = first + block * REPORT_BLOCK_BYTES;
      if (data.readUInt32BE(offset) !== ssrc >>> 0) continue;
      const lastReport = data.readUInt32BE(offset + 16);
      if (lastReport === 0) continue;
      const units = (middleNtp(nowMs) - lastReport - data.readUInt32BE(offset + 20)) >>> 0;
      const ms = (units / 65536) * 1000;
      if (ms <= MAX_ROUND_TRIP_MS) return ms;
    }
    at += length;
  }
  return undefined;
}
