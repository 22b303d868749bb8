import { FlvTagType, type FlvTag } from './tags.ts';
import { h264Track, parseAvcC } from '../h264/params.ts';
import type { H264Unit, H264Track } from '../types.ts';

const AVC_CODEC_ID = 7;
const NAL_TYPE_SPS = 7;
const NAL_TYPE_PPS = 8;
const NAL_TYPE_AUD = 9;

/** Splits an AVCC payload (4-byte big-endian lengths) into NAL units; throws when a length runs past the end. */
export function splitAvcc(payload: Buffer): Buffer[] {
  const nalus: Buffer[] = [];
  let offset = 0;
  while (offset + 4 <= payload.length) {
    const length = payload.readUInt32BE(offset);
    offset += 4;
    if (length === 0 || offset + length > payload.length) throw new Error(`NAL unit length ${length} runs past the payload`);
    nalus.push(payload.subarray(offset, offset + length));
    offset += length;
  }
  if (offset !== payload.length) throw new Error('trailing bytes after the last NAL unit');
  return nalus;
}

/**
 * Turns the FLV tags of an H.264 encoder into encoded frames: the AVC sequence header becomes the track, each AVC
 * NALU tag a frame with its decode time (tag timestamp) and presentation time (plus composition offset).
 */
export class FlvFrameReader {
  track: H264Track | undefined;

  /** Returns the frame a tag carries, or undefined for metadata, sequence headers and anything not H.264. */
  read(tag: FlvTag): H264Unit | undefined {
    if (tag.type !== FlvTagType.video) return undefined;
    const data = tag.bytes.subarray(11, tag.bytes.length - 4);
    if (data.length < 5 || (data[0]! & 0x0f) !== AVC_CODEC_ID) return undefined;
    const packetType = data[1];
    const payload = data.subarray(5);
    if (packetType === 0) {
      const { sps, pps } = parseAvcC(payload);
      this.track = h264Track(sps, pps);
      return undefined;
    }
    if (packetType !== 1 || !this.track) return undefined;
    const compositionTime = (data.readIntBE(2, 3));
    const nalus = splitAvcc(payload).filter((nal) => {
      const type = nal[0]! & 0x1f;
      return type !== NAL_TYPE_SPS && type !== NAL_TYPE_PPS && type !== NAL_TYPE_AUD;
    });
    if (nalus.length === 0) return undefined;
    return { track: this.track, data: nalus, dts: tag.timestamp, pts: tag.timestamp + compositionTime, keyframe: tag.keyframe };
  }
}
