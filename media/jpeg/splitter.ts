import { ByteBuffer } from '../../lib/byte-buffer.ts';

/** Thrown when the byte stream breaks a limit; the caller turns it into its own protocol error. */
export class JpegSplitError extends Error {
  override readonly name = 'JpegSplitError';
}

const SOI = 0xd8;
const EOI = 0xd9;
const SOS = 0xda;

/** Markers that stand alone, with no length field: TEM, RST0-7, SOI, EOI. */
function isStandalone(marker: number): boolean {
  return marker === 0x01 || (marker >= 0xd0 && marker <= 0xd9);
}

/**
 * Cuts a byte stream of concatenated JPEG images into whole images (SOI..EOI), following segment lengths so that an
 * EOI inside an embedded thumbnail does not end the frame early. Bytes before an SOI are skipped (counted as garbage).
 * Memory is bounded by maxFrameBytes: a frame that grows past it is an error.
 */
export class JpegSplitter {
  private readonly pending = new ByteBuffer();
  /** Offset in `pending` of the next byte to examine; pending[0] is an SOI's 0xFF while inFrame. */
  private scan = 0;
  private inFrame = false;
  private inEntropyData = false;
  garbageBytes = 0;

  constructor(private readonly maxFrameBytes: number) {}

  /** Feeds bytes; returns the images completed by them, each a Buffer of its own. */
  push(chunk: Buffer): Buffer[] {
    this.pending.append(chunk);
    const frames: Buffer[] = [];
    for (;;) {
      if (!this.inFrame && !this.seekStart()) break;
      const end = this.findEnd();
      if (end < 0) break;
      frames.push(this.pending.take(end));
      this.resetFrame();
    }
    if (this.inFrame && this.pending.length > this.maxFrameBytes) {
      throw new JpegSplitError(`JPEG frame larger than ${this.maxFrameBytes} bytes`);
    }
    return frames;
  }

  /** Bytes held for an unfinished image. */
  get bufferedBytes(): number {
    return this.pending.length;
  }

  private resetFrame(): void {
    this.inFrame = false;
    this.inEntropyData = false;
    this.scan = 0;
  }

  /** Drops bytes up to the next FF D8; returns true when one starts the buffer. */
  private seekStart(): boolean {
    const view = this.pending.view();
    let at = view.indexOf(0xff);
    while (at >= 0 && at + 1 < view.length && view[at + 1] !== SOI) at = view.indexOf(0xff, at + 1);
    if (at < 0) {
      this.garbageBytes += view.length;
      this.pending.clear();
      return false;
    }
    this.garbageBytes += at;
    this.pending.skip(at);
    if (this.pending.length < 2) return false;
    this.inFrame = true;
    this.scan = 2;
    return true;
  }

  /** Returns the length of the complete image at the buffer's start, or -1 if more bytes are needed. */
  private findEnd(): number {
    const view = this.pending.view();
    while (this.scan + 1 < view.length) {
      if (this.inEntropyData) {
        const ff = view.indexOf(0xff, this.scan);
        if (ff < 0 || ff + 1 >= view.length) {
          this.scan = ff < 0 ? view.length : ff;
          return -1;
        }
        const next = view[ff + 1]!;
        // FF 00 is a stuffed byte and FF D0-D7 a restart marker: both belong to the entropy-coded data.
        if (next === 0x00 || (next >= 0xd0 && next <= 0xd7) || next === 0xff) {
          this.scan = next === 0xff ? ff + 1 : ff + 2;
          continue;
        }
        this.inEntropyData = false;
        this.scan = ff;
        continue;
      }
      if (view[this.scan] !== 0xff) {
        this.scan++; // tolerate junk between segments, as some encoders emit
        continue;
      }
      const marker = view[this.scan + 1]!;
      if (marker === 0xff) {
        this.scan++; // fill byte
        continue;
      }
      if (marker === EOI) return this.scan + 2;
      if (isStandalone(marker)) {
        this.scan += 2;
        continue;
      }
      if (this.scan + 3 >= view.length) return -1;
      const segmentLength = view.readUInt16BE(this.scan + 2);
      if (segmentLength < 2) throw new JpegSplitError(`JPEG segment 0x${marker.toString(16)} with length ${segmentLength}`);
      this.scan += 2 + segmentLength;
      if (marker === SOS) this.inEntropyData = true;
    }
    return -1;
  }
}

/** The smallest JPEG a camera can send (headers, tables and one tiny scan) is well above this. */
const MIN_JPEG_BYTES = 100;

/** Whether an image can be a JPEG at all: a whole one (SOI..EOI) of a size a camera can send. */
export function isPlausibleJpeg(data: Buffer): boolean {
  return data.length >= MIN_JPEG_BYTES && isCompleteJpeg(data);
}

/** True if `data` looks like a whole JPEG: starts FF D8 and ends FF D9. */
export function isCompleteJpeg(data: Buffer): boolean {
  const n = data.length;
  return n >= 4 && data[0] === 0xff && data[1] === SOI && data[n - 2] === 0xff && data[n - 1] === EOI;
}
