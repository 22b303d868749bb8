import type { EncodedVideoFrame, H264Track } from '../media/types.ts';

const AVC_CODEC_ID = 7;
const TAG_HEADER_SIZE = 11;

/** The FLV file header (video only) followed by PreviousTagSize0. */
export function flvFileHeader(): Buffer {
  return Buffer.from([0x46, 0x4c, 0x56, 1, 0x01, 0, 0, 0, 9, 0, 0, 0, 0]);
}

function videoTag(timestamp: number, body: Buffer): Buffer {
  const tag = Buffer.alloc(TAG_HEADER_SIZE + body.length + 4);
  tag[0] = 9;
  tag.writeUIntBE(body.length, 1, 3);
  tag.writeUIntBE(timestamp & 0xffffff, 4, 3);
  tag[7] = (timestamp >>> 24) & 0xff;
  body.copy(tag, TAG_HEADER_SIZE);
  tag.writeUInt32BE(TAG_HEADER_SIZE + body.length, TAG_HEADER_SIZE + body.length);
  return tag;
}

/** The AVC sequence header tag that carries the track's avcC; a decoder needs it before any frame. */
export function flvSequenceHeader(track: H264Track, timestamp = 0): Buffer {
  return videoTag(timestamp, Buffer.concat([Buffer.from([0x10 | AVC_CODEC_ID, 0, 0, 0, 0]), track.avcC]));
}

/** One access unit as an FLV video tag: NAL units with 4-byte lengths, `timestamp` its decode time in ms. */
export function flvFrameTag(frame: EncodedVideoFrame, timestamp: number): Buffer {
  const composition = Math.max(-0x800000, Math.min(0x7fffff, Math.round(frame.pts - frame.dts)));
  const head = Buffer.alloc(5);
  head[0] = (frame.keyframe ? 0x10 : 0x20) | AVC_CODEC_ID;
  head[1] = 1;
  head.writeIntBE(composition, 2, 3);
  const parts: Buffer[] = [head];
  for (const nal of frame.nalus) {
    const length = Buffer.alloc(4);
    length.writeUInt32BE(nal.length);
    parts.push(length, nal);
  }
  return videoTag(Math.max(0, Math.round(timestamp)), Buffer.concat(parts));
}
