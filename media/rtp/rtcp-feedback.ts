/** What a receiver asked for in one RTCP compound packet (RFC 4585 feedback, RFC 5104 FIR). */
export interface RtcpFeedback {
  /** Sequence numbers reported lost (generic NACK). */
  readonly nacked: number[];
  /** A picture loss indication or a full intra request was present. */
  readonly keyframeRequested: boolean;
}

const RTPFB = 205;
const PSFB = 206;
const FMT_GENERIC_NACK = 1;
const FMT_PLI = 1;
const FMT_FIR = 4;
/** NACKs read from one compound packet at most: 17 sequence numbers per entry, a burst of loss fits. */
const MAX_NACKED = 512;

/**
 * Reads the feedback of an RTCP compound packet: NACKed sequence numbers and keyframe requests. Anything malformed
 * ends the walk (what came before it counts); it never throws.
 */
export function readRtcpFeedback(data: Buffer): RtcpFeedback {
  const nacked: number[] = [];
  let keyframeRequested = false;
  let at = 0;
  while (at + 4 <= data.length) {
    if (data[at]! >> 6 !== 2) break;
    const format = data[at]! & 0x1f;
    const type = data[at + 1]!;
    const length = (data.readUInt16BE(at + 2) + 1) * 4;
    if (at + length > data.length) break;
    if (type === PSFB && (format === FMT_PLI || format === FMT_FIR)) keyframeRequested = true;
    if (type === RTPFB && format === FMT_GENERIC_NACK) {
      for (let entry = at + 12; entry + 4 <= at + length && nacked.length < MAX_NACKED; entry += 4) {
        const first = data.readUInt16BE(entry);
        const mask = data.readUInt16BE(entry + 2);
        nacked.push(first);
        for (let bit = 0; bit < 16; bit++) if (mask & (1 << bit)) nacked.push((first + bit + 1) & 0xffff);
      }
    }
    at += length;
  }
  return { nacked, keyframeRequested };
}

/** True when a packet on an RTP/RTCP-multiplexed transport is RTCP (RFC 5761: payload types 192-223). */
export function isRtcp(data: Buffer): boolean {
  return data.length >= 2 && data[1]! >= 192 && data[1]! <= 223;
}
