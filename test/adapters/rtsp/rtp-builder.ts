import type { RtpPacket } from '../../../media/rtp/rtp.ts';

/** Serialises an RTP packet with a plain 12-byte header. */
export function rtpBytes(fields: { payloadType: number; sequence: number; timestamp: number; marker?: boolean; ssrc?: number }, payload: Buffer): Buffer {
  const header = Buffer.alloc(12);
  header[0] = 0x80;
  header[1] = (fields.marker ? 0x80 : 0) | fields.payloadType;
  header.writeUInt16BE(fields.sequence & 0xffff, 2);
  header.writeUInt32BE(fields.timestamp >>> 0, 4);
  header.writeUInt32BE(fields.ssrc ?? 0x1234, 8);
  return Buffer.concat([header, payload]);
}

/** An RtpPacket value as the parser would give it. */
export function rtpPacket(sequence: number, timestamp: number, payload: Buffer, marker = false, payloadType = 96): RtpPacket {
  return { payloadType, sequence: sequence & 0xffff, timestamp: timestamp >>> 0, marker, ssrc: 0x1234, payload };
}

/** H.264 helpers: a NAL unit of `type` with a recognisable body, and its FU-A fragments. */
export function nal(type: number, size = 8, fill = type): Buffer {
  const unit = Buffer.alloc(size, fill);
  unit[0] = 0x60 | type; // nal_ref_idc 3
  return unit;
}

/** Splits a NAL unit into FU-A payloads of at most `chunk` body bytes each. */
export function fuA(unit: Buffer, chunk: number): Buffer[] {
  const indicator = (unit[0]! & 0xe0) | 28;
  const type = unit[0]! & 0x1f;
  const body = unit.subarray(1);
  const out: Buffer[] = [];
  for (let at = 0; at < body.length; at += chunk) {
    const start = at === 0 ? 0x80 : 0;
    const end = at + chunk >= body.length ? 0x40 : 0;
    out.push(Buffer.concat([Buffer.from([indicator, start | end | type]), body.subarray(at, at + chunk)]));
  }
  return out;
}

/** A STAP-A payload aggregating the given NAL units. */
export function stapA(units: Buffer[]): Buffer {
  const parts: Buffer[] = [Buffer.from([0x78])];
  for (const unit of units) parts.push(Buffer.from([unit.length >> 8, unit.length & 0xff]), unit);
  return Buffer.concat(parts);
}

/** Annex B bytes of the given NAL units, as the depacketizer should emit them. */
export function annexB(units: Buffer[]): Buffer {
  return Buffer.concat(units.flatMap((unit) => [Buffer.from([0, 0, 0, 1]), unit]));
}

/** Deterministic PRNG (mulberry32) so fuzz runs repeat exactly. */
export { prng } from '../../helpers/prng.ts';
