/**
 * The send-time stamp the bench camera puts in every JPEG: a COM segment right after SOI,
 * FF FE <len> "bench-t=" <17 ASCII chars: milliseconds since the epoch, 3 decimals, zero-padded>.
 * A COM segment is ignored by decoders and passed through unchanged by a relay that does not re-encode.
 */
export const STAMP_MARKER = Buffer.from([0xff, 0xfe, 0x00, 0x1b, ...Buffer.from('bench-t=', 'latin1')]);
/** Characters of the time value after the marker. */
export const STAMP_DIGITS = 17;
/** JPEG end-of-image marker: in entropy-coded data a 0xFF is always stuffed, so FF D9 only ends the image. */
export const JPEG_EOI = Buffer.from([0xff, 0xd9]);

/** Returns the JPEG with a stamp segment inserted after its SOI. */
export function stampJpeg(jpeg: Buffer, timeMs: number): Buffer {
  const digits = timeMs.toFixed(3).padStart(STAMP_DIGITS, '0').slice(-STAMP_DIGITS);
  return Buffer.concat([jpeg.subarray(0, 2), STAMP_MARKER, Buffer.from(digits, 'latin1'), jpeg.subarray(2)]);
}

/** Reads the time value that follows a marker found at markerAt; NaN when the bytes are not a number. */
export function readStamp(bytes: Buffer, markerAt: number): number {
  const start = markerAt + STAMP_MARKER.length;
  return Number(bytes.toString('latin1', start, start + STAMP_DIGITS));
}
