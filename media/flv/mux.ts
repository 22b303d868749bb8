import { FlvTagType } from './tags.ts';
import { toAvcc } from '../h264/annexb.ts';
import type { AudioTrack, H264Unit, H264Track } from '../types.ts';

const AVC_KEYFRAME = 0x17;
const AVC_INTERFRAME = 0x27;

/** The FLV file header, with the first PreviousTagSize: video only unless `audio` says the file has sound too. */
export function flvHeader(audio = false): Buffer {
  return Buffer.from([0x46, 0x4c, 0x56, 0x01, audio ? 0x05 : 0x01, 0x00, 0x00, 0x00, 0x09, 0, 0, 0, 0]);
}

/** One tag: 11-byte header, data, PreviousTagSize. Timestamps are ms and wrap at 2^32 as FLV's do. */
export function flvTag(type: number, timestampMs: number, data: Buffer): Buffer {
  const tag = Buffer.alloc(11 + data.length + 4);
  const timestamp = Math.max(0, Math.round(timestampMs)) >>> 0;
  tag[0] = type;
  tag.writeUIntBE(data.length, 1, 3);
  tag.writeUIntBE(timestamp & 0xffffff, 4, 3);
  tag[7] = timestamp >>> 24;
  data.copy(tag, 11);
  tag.writeUInt32BE(11 + data.length, 11 + data.length);
  return tag;
}

/** The AVC sequence header: what every viewer needs before any frame of this track. */
export function flvSequenceHeader(track: H264Track, timestampMs: number): Buffer {
  return flvTag(FlvTagType.video, timestampMs, Buffer.concat([Buffer.from([AVC_KEYFRAME, 0, 0, 0, 0]), track.avcC]));
}

/** One access unit as an AVC NALU tag; `timestampMs` is its decode time on the output's timeline. */
export function flvVideoTag(frame: H264Unit, timestampMs: number): Buffer {
  const head = Buffer.alloc(5);
  head[0] = frame.keyframe ? AVC_KEYFRAME : AVC_INTERFRAME;
  head[1] = 1;
  head.writeIntBE(Math.round(frame.pts - frame.dts), 2, 3);
  return flvTag(FlvTagType.video, timestampMs, Buffer.concat([head, toAvcc(frame.data)]));
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
