import { FlvTagType } from './tags.ts';
import { avccSize, writeAvcc } from '../h264/annexb.ts';
import type { AudioTrack, H264Unit, H264Track } from '../types.ts';

const AVC_KEYFRAME = 0x17;
const AVC_INTERFRAME = 0x27;
const TAG_HEADER_BYTES = 11;
const PREVIOUS_TAG_SIZE_BYTES = 4;
/** Frame type and codec, AVCPacketType, composition time offset: what every AVC tag's data starts with. */
const AVC_HEAD_BYTES = 5;

/** The FLV file header, with the first PreviousTagSize: video only unless `audio` says the file has sound too. */
export function flvHeader(audio = false): Buffer {
  return Buffer.from([0x46, 0x4c, 0x56, 0x01, audio ? 0x05 : 0x01, 0x00, 0x00, 0x00, 0x09, 0, 0, 0, 0]);
}

/** One tag: 11-byte header, data, PreviousTagSize. Timestamps are ms and wrap at 2^32 as FLV's do. */
export function flvTag(type: number, timestampMs: number, data: Buffer): Buffer {
  const tag = Buffer.alloc(TAG_HEADER_BYTES + data.length + PREVIOUS_TAG_SIZE_BYTES);
  writeTagHeader(tag, type, timestampMs, data.length);
  data.copy(tag, TAG_HEADER_BYTES);
  tag.writeUInt32BE(TAG_HEADER_BYTES + data.length, TAG_HEADER_BYTES + data.length);
  return tag;
}

/** The 11-byte tag header: type, data size, timestamp (24 bits and an extension byte), stream id 0. */
function writeTagHeader(tag: Buffer, type: number, timestampMs: number, dataSize: number): void {
  const timestamp = Math.max(0, Math.round(timestampMs)) >>> 0;
  tag[0] = type;
  tag.writeUIntBE(dataSize, 1, 3);
  tag.writeUIntBE(timestamp & 0xffffff, 4, 3);
  tag[7] = timestamp >>> 24;
  tag.writeUIntBE(0, 8, 3); // stream id
}

/** The AVC sequence header: what every viewer needs before any frame of this track. */
export function flvSequenceHeader(track: H264Track, timestampMs: number): Buffer {
  return flvTag(FlvTagType.video, timestampMs, Buffer.concat([Buffer.from([AVC_KEYFRAME, 0, 0, 0, 0]), track.avcC]));
}

/**
 * One access unit as an AVC NALU tag; `timestampMs` is its decode time on the output's timeline. Written in one
 * allocation, the NAL units copied once: this runs for every frame of every FLV stream.
 */
export function flvVideoTag(frame: H264Unit, timestampMs: number): Buffer {
  const dataSize = AVC_HEAD_BYTES + avccSize(frame.data);
  const tag = Buffer.allocUnsafeSlow(TAG_HEADER_BYTES + dataSize + PREVIOUS_TAG_SIZE_BYTES); // every byte is written below
  writeTagHeader(tag, FlvTagType.video, timestampMs, dataSize);
  tag[TAG_HEADER_BYTES] = frame.keyframe ? AVC_KEYFRAME : AVC_INTERFRAME;
  tag[TAG_HEADER_BYTES + 1] = 1; // AVC NALU
  tag.writeIntBE(Math.round(frame.pts - frame.dts), TAG_HEADER_BYTES + 2, 3);
  const end = writeAvcc(frame.data, tag, TAG_HEADER_BYTES + AVC_HEAD_BYTES);
  tag.writeUInt32BE(TAG_HEADER_BYTES + dataSize, end);
  return tag;
}

function amfString(value: string): Buffer {
  const bytes = Buffer.from(value, 'utf8');
  const length = Buffer.alloc(2);
  length.writeUInt16BE(bytes.length);
  return Buffer.concat([length, bytes]);
}

function amfNumber(value: number): Buffer {
  const out = Buffer.alloc(9);
  out[0] = 0x00;
  out.writeDoubleBE(value, 1);
  return out;
}

/** The onMetaData script tag (AMF0): picture size and codecs, which players read before the first frame. */
export function flvMetadata(track: H264Track, frameRate: number, timestampMs: number, audio?: AudioTrack): Buffer {
  const fields: Array<[string, number]> = [['width', track.width], ['height', track.height], ['videocodecid', 7]];
  if (frameRate > 0) fields.push(['framerate', frameRate]);
  if (audio) fields.push(['audiocodecid', 10], ['audiosamplerate', audio.sampleRate], ['audiochannels', audio.channels]);
  const count = Buffer.alloc(4);
  count.writeUInt32BE(fields.length);
  const body = [Buffer.from([0x02]), amfString('onMetaData'), Buffer.from([0x08]), count];
  for (const [key, value] of fields) body.push(amfString(key), amfNumber(value));
  body.push(Buffer.from([0x00, 0x00, 0x09]));
  return flvTag(FlvTagType.script, timestampMs, Buffer.concat(body));
}
