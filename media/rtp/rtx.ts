import { parseRtpPacket, type RtpPacket } from './rtp.ts';

/** The fields an RTX packet (RFC 4588) gets of its own: the retransmission stream's payload type, sequence and SSRC. */
export interface RtxFields {
  readonly payloadType: number;
  readonly sequence: number;
  readonly ssrc: number;
  /** The sequence number the packet was first sent under (OSN), which the receiver puts back. */
  readonly originalSequence: number;
}

/**
 * Wraps a packet already sent into an RTX packet (RFC 4588 section 4): the original header with the retransmission
 * stream's payload type, sequence and SSRC (marker and timestamp kept), then the original sequence number, then the
 * original payload. A new buffer: the original may be shared.
 */
export function buildRtxPacket(original: Buffer, fields: RtxFields): Buffer {
  const { payload } = parseRtpPacket(original);
  const headerLength = payload.byteOffset - original.byteOffset;
  const packet = Buffer.allocUnsafe(headerLength + 2 + payload.length);
  original.copy(packet, 0, 0, headerLength);
  packet[0] = packet[0]! & ~0x20; // any padding of the original is not copied
  packet[1] = (original[1]! & 0x80) | (fields.payloadType & 0x7f);
  packet.writeUInt16BE(fields.sequence & 0xffff, 2);
  packet.writeUInt32BE(fields.ssrc >>> 0, 8);
  packet.writeUInt16BE(fields.originalSequence & 0xffff, headerLength);
  payload.copy(packet, headerLength + 2);
  return packet;
}

/**
 * The original packet inside an RTX packet, as the receiver rebuilds it: the original sequence number from the first
 * two payload bytes, and the primary stream's payload type and SSRC. Undefined for an RTX packet too short to carry one.
 */
export function unwrapRtxPacket(rtx: RtpPacket, primary: { readonly payloadType: number; readonly ssrc: number }): RtpPacket | undefined {
  if (rtx.payload.length < 2) return undefined;
  return { ...rtx, payloadType: primary.payloadType, ssrc: primary.ssrc, sequence: rtx.payload.readUInt16BE(0), payload: rtx.payload.subarray(2) };
}
