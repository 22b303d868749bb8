import { ByteBuffer } from '../../lib/byte-buffer.ts';

/** Digits of the length in front of each frame. */
const LENGTH_DIGITS = 5;

/** Thrown when a length-prefixed MJPEG file breaks its format; the message names the byte offset. */
export class LengthPrefixError extends Error {
  override readonly name = 'LengthPrefixError';
}

/**
 * Reads the MJPEG file format where every JPEG is preceded by its length as five ASCII digits ("04321<jpeg>"), as
 * written by teaching RTSP servers. Incremental: feed chunks, get whole frames; memory is bounded by one frame
 * (at most 99,999 bytes, the largest five digits can say).
 */
export class LengthPrefixedJpegReader {
  private readonly pending = new ByteBuffer(128 * 1024);
  /** Offset in the file of the first byte in `pending`, for error messages. */
  private offset = 0;

  push(chunk: Buffer): Buffer[] {
    this.pending.append(chunk);
    const frames: Buffer[] = [];
    while (this.pending.length >= LENGTH_DIGITS) {
      const digits = this.pending.view().toString('latin1', 0, LENGTH_DIGITS);
      if (!/^\d{5}$/.test(digits)) throw new LengthPrefixError(`bad frame length at byte ${this.offset}: not five digits`);
      const length = Number(digits);
      if (length < 4) throw new LengthPrefixError(`bad frame length ${length} at byte ${this.offset}`);
      if (this.pending.length < LENGTH_DIGITS + length) break;
      this.pending.skip(LENGTH_DIGITS);
      const frame = this.pending.take(length);
      if (frame[0] !== 0xff || frame[1] !== 0xd8) throw new LengthPrefixError(`the frame at byte ${this.offset} is not a JPEG`);
      this.offset += LENGTH_DIGITS + length;
      frames.push(frame);
    }
    return frames;
  }

  /** Call at the end of the file: leftover bytes mean the last length promised more than the file holds. */
  end(): void {
    if (this.pending.length > 0) throw new LengthPrefixError(`the file ends inside the frame at byte ${this.offset}`);
  }
}

/** True if the file starts like this format: five digits, then a JPEG's FF D8. */
export function looksLengthPrefixed(head: Buffer): boolean {
  return head.length >= LENGTH_DIGITS + 2 && /^\d{5}$/.test(head.toString('latin1', 0, LENGTH_DIGITS)) && head[5] === 0xff && head[6] === 0xd8;
}
