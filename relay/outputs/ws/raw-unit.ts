import { avccSize, writeAvcc } from '../../../media/h264/annexb.ts';
import type { H264Unit } from '../../../media/types.ts';

/** Bytes before the access unit in a raw-mode message. */
export const RAW_HEADER_BYTES = 12;
/** Byte 0: what the message carries. */
export const RAW_KIND_VIDEO = 1;
/** Byte 1, bit 0: the unit is a keyframe (WebCodecs' `type: 'key'`). */
export const RAW_FLAG_KEYFRAME = 0x01;
/** Byte 2: the codec and framing of the unit: H.264 as 4-byte length-prefixed NAL units (the avcC's framing). */
export const RAW_CODEC_H264_AVCC = 1;

/**
 * One raw-mode message: kind (1 byte), flags (1), codec (1), reserved (1), presentation time in microseconds on the
 * stream's timeline (unsigned 64-bit, big-endian: WebCodecs' `timestamp`), then the access unit as AVCC, which a
 * VideoDecoder configured with the config message's `description` decodes as it is.
 */
export function rawVideoUnit(frame: H264Unit, timeBaseMs: number): Buffer {
  const message = Buffer.alloc(RAW_HEADER_BYTES + avccSize(frame.data));
  message[0] = RAW_KIND_VIDEO;
  message[1] = frame.keyframe ? RAW_FLAG_KEYFRAME : 0;
  message[2] = RAW_CODEC_H264_AVCC;
  message.writeBigUInt64BE(BigInt(Math.max(0, Math.round((frame.pts - timeBaseMs) * 1000))), 4);
  writeAvcc(frame.data, message, RAW_HEADER_BYTES);
  return message;
}

/** Byte 0 of an audio message. */
export const RAW_KIND_AUDIO = 2;
/** Byte 2 of an audio message: one raw AAC frame (no ADTS header), as WebCodecs' AudioDecoder takes it with the ASC. */
export const RAW_CODEC_AAC = 2;

/** One raw-mode audio message: the same 12-byte header (time in microseconds on the video's timeline), then the frame. */
export function rawAudioUnit(data: Buffer, timeUs: number): Buffer {
  const header = Buffer.alloc(RAW_HEADER_BYTES);
  header[0] = RAW_KIND_AUDIO;
  header[2] = RAW_CODEC_AAC;
  header.writeBigUInt64BE(BigInt(Math.max(0, Math.round(timeUs))), 4);
  return Buffer.concat([header, data]);
}
