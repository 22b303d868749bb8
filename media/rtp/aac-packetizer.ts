import { ProtocolError } from '../errors.ts';
import { MAX_RTP_PAYLOAD, type RtpPayload } from './packet.ts';

/** The largest AU an AAC-hbr header can announce: sizelength 13. */
const MAX_AU_BYTES = 0x1fff;

/**
 * One raw AAC frame as RFC 3640 AAC-hbr payloads (sizelength 13, indexlength 3): one AU per packet, or, when it does
 * not fit, fragments each repeating the AU header with the whole AU's size; the marker is set on the last.
 */
export function packetizeAacHbr(frame: Buffer, maxPayload = MAX_RTP_PAYLOAD): RtpPayload[] {
  if (frame.length === 0 || frame.length > MAX_AU_BYTES) throw new ProtocolError(`mpeg4-generic: an AU of ${frame.length} bytes cannot be sent`);
  const header = Buffer.from([0x00, 0x10, frame.length >> 5, (frame.length & 0x1f) << 3]);
  const room = maxPayload - header.length;
  const out: RtpPayload[] = [];
  for (let at = 0; at < frame.length; at += room) {
    const body = frame.subarray(at, at + room);
    out.push({ payload: Buffer.concat([header, body]), marker: at + room >= frame.length });
  }
  return out;
}

/** The fmtp parameters that describe what packetizeAacHbr sends, with the AudioSpecificConfig in hex. */
export function aacHbrFmtpParameters(config: Buffer): string {
  return `streamtype=5;profile-level-id=1;mode=AAC-hbr;sizelength=13;indexlength=3;indexdeltalength=3;config=${config.toString('hex')}`;
}
