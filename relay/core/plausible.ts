import type { Frame } from '../../adapters/types.ts';
import { isCompleteJpeg } from '../../media/jpeg/splitter.ts';

/** The smallest JPEG a camera can send (headers, tables and one tiny scan) is well above this. */
const MIN_JPEG_BYTES = 100;
const MIN_VP8_KEYFRAME_BYTES = 10;

/**
 * Whether a frame can be an image at all: a complete JPEG (SOI..EOI) of sane size, H.264 in Annex B, a VP8 frame
 * with a valid keyframe start code. Anything else is dropped before it reaches a queue, an encoder or a viewer.
 */
export function isPlausibleFrame(frame: Frame): boolean {
  const data = frame.data;
  if (frame.codec === 'jpeg') return data.length >= MIN_JPEG_BYTES && isCompleteJpeg(data);
  if (frame.codec === 'h264') return data.length >= 5 && data[0] === 0 && data[1] === 0 && (data[2] === 1 || (data[2] === 0 && data[3] === 1));
  if (!frame.keyframe) return data.length >= 3;
  return data.length >= MIN_VP8_KEYFRAME_BYTES && data[3] === 0x9d && data[4] === 0x01 && data[5] === 0x2a;
}
