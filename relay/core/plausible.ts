import { isH264Unit, type VideoUnit } from '../../media/types.ts';
import { isCompleteJpeg } from '../../media/jpeg/splitter.ts';

/** The smallest JPEG a camera can send (headers, tables and one tiny scan) is well above this. */
const MIN_JPEG_BYTES = 100;
const MIN_VP8_KEYFRAME_BYTES = 10;

/**
 * Whether a frame can be an image at all: a complete JPEG (SOI..EOI) of sane size, H.264 NAL units with valid
 * headers, a VP8 frame with a valid keyframe start code. Anything else is dropped before it reaches a queue, an
 * encoder or a viewer.
 */
export function isPlausibleFrame(frame: VideoUnit): boolean {
  if (isH264Unit(frame)) return frame.data.length > 0 && frame.data.every(isPlausibleNal);
  const data = frame.data;
  if (frame.track.codec === 'jpeg') return data.length >= MIN_JPEG_BYTES && isCompleteJpeg(data);
  if (!frame.keyframe) return data.length >= 3;
  return data.length >= MIN_VP8_KEYFRAME_BYTES && data[3] === 0x9d && data[4] === 0x01 && data[5] === 0x2a;
}

/** A NAL unit has a header byte and at least one byte after it, and its forbidden_zero_bit is clear. */
function isPlausibleNal(nal: Buffer): boolean {
  return nal.length >= 2 && (nal[0]! & 0x80) === 0;
}
