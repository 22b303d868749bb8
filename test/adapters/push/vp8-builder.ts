import type { RtpPacket } from '../../../media/rtp/rtp.ts';

/** A VP8 keyframe as the depacketizer checks it: an uncompressed header with the start code and a size, then filler. */
export function vp8Keyframe(width = 320, height = 240, bodyBytes = 200, fill = 0x55): Buffer {
  const frame = Buffer.alloc(10 + bodyBytes, fill);
  frame[0] = 0x10; // P bit clear: a keyframe; show_frame set
  frame[1] = 0x02;
  frame[2] = 0x00;
  frame[3] = 0x9d;
  frame[4] = 0x01;
  frame[5] = 0x2a;
  frame.writeUInt16LE(width, 6);
  frame.writeUInt16LE(height, 8);
  return frame;
}

/** A VP8 inter frame: the P bit set. */
export function vp8InterFrame(bodyBytes = 80, fill = 0x33): Buffer {
  const frame = Buffer.alloc(3 + bodyBytes, fill);
  frame[0] = 0x11;
  return frame;
}

/**
 * Splits a VP8 frame into RTP payloads of at most `chunk` bytes, each with an RFC 7741 descriptor; `pictureId` adds
 * the extension byte and a 15-bit picture ID, as GStreamer's rtpvp8pay writes it.
 */
export function vp8Payloads(frame: Buffer, chunk: number, pictureId?: number): Buffer[] {
  const out: Buffer[] = [];
  for (let at = 0; at < frame.length; at += chunk) {
    const start = at === 0 ? 0x10 : 0;
    const descriptor = pictureId === undefined
      ? Buffer.from([start])
      : Buffer.from([0x80 | start, 0x80, 0x80 | ((pictureId >> 8) & 0x7f), pictureId & 0xff]);
    out.push(Buffer.concat([descriptor, frame.subarray(at, at + chunk)]));
  }
  return out;
}

/** RtpPackets of one frame: consecutive sequence numbers from `sequence`, the marker on the last. */
export function vp8Packets(frame: Buffer, sequence: number, timestamp: number, chunk = 64, pictureId?: number): RtpPacket[] {
  const payloads = vp8Payloads(frame, chunk, pictureId);
  return payloads.map((payload, index) => ({
    payloadType: 96,
    sequence: (sequence + index) & 0xffff,
    timestamp,
    marker: index === payloads.length - 1,
    ssrc: 0x1234,
    payload,
  }));
}
