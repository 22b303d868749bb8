import { ByteBuffer } from '../../lib/byte-buffer.ts';
import { JpegSplitError, JpegSplitter, isCompleteJpeg } from '../../media/jpeg/splitter.ts';
import { AdapterError } from '../errors.ts';
import { MAX_BOUNDARY_LENGTH } from './content-type.ts';

/** Limits that keep a hostile or broken camera from growing the parser's memory. */
export interface MultipartLimits {
  /** Largest part payload, bytes (the camera's maxFrameBytes). */
  readonly maxPartBytes: number;
  /** Largest block of part headers, bytes. */
  readonly maxHeaderBytes: number;
  /** Most bytes skipped between parts while looking for a boundary line. */
  readonly maxGarbageBytes: number;
}

/** Defaults for the header and garbage limits: part headers are a few short lines, blank-line padding is small. */
export const DEFAULT_MULTIPART_LIMITS = { maxHeaderBytes: 8 * 1024, maxGarbageBytes: 64 * 1024 } as const;

type State = 'boundary' | 'headers' | 'sized-body' | 'scanned-body' | 'discard' | 'closed';

const LF = 0x0a;
const SOI = Buffer.from([0xff, 0xd8]);

/**
 * Incremental parser of a multipart/x-mixed-replace MJPEG body: feed it bytes as they arrive, it returns the JPEG
 * payloads completed by them. It copes with real cameras: blank lines between parts, header names in any case,
 * boundary lines with extra leading dashes, a repeated boundary line (Foscam G2), parts without Content-Length
 * (the JPEG's end is found by the JPEG splitter, so a frame is yielded as soon as its EOI arrives).
 * Parts that are not a whole JPEG are dropped and counted. Every buffer is capped; breaking a cap is AdapterError('PROTOCOL').
 */
export class MultipartParser {
  private readonly buffer = new ByteBuffer(16 * 1024);
  private state: State = 'boundary';
  /** The boundary without leading dashes; learned from the first `--` line when the Content-Type named none. */
  private bareBoundary: string | undefined;
  private delimiter: Buffer | undefined;
  private skippedBytes = 0;
  private headerBytes = 0;
  private contentLength = -1;
  private splitter: JpegSplitter | undefined;
  private fedBytes = 0;
  private delimiterSearchFrom = 0;
  /** Parts whose payload was not a whole JPEG. */
  droppedParts = 0;
  /** Parts whose payload was a JPEG and was returned. */
  frameParts = 0;

  constructor(
    boundary: string | undefined,
    private readonly limits: MultipartLimits,
  ) {
    if (boundary !== undefined) this.setBoundary(boundary);
  }

  /** Bytes held for an unfinished line, header block or part. */
  get bufferedBytes(): number {
    return this.buffer.length;
  }

  /** True after the closing `--boundary--` line: the camera ended the stream on purpose. */
  get closed(): boolean {
    return this.state === 'closed';
  }

  /** True while a part's headers or payload have begun but not finished. */
  get midPart(): boolean {
    return this.state !== 'boundary' && this.state !== 'closed';
  }

  /** Feeds bytes; returns the JPEG payloads completed by them. */
  push(chunk: Buffer): Buffer[] {
    if (this.state === 'closed') return [];
    this.buffer.append(chunk);
    const frames: Buffer[] = [];
    while (this.step(frames));
    return frames;
  }

  /** Runs the state machine once; returns false when it needs more bytes. */
  private step(frames: Buffer[]): boolean {
    switch (this.state) {
      case 'boundary': return this.seekBoundary();
      case 'headers': return this.readHeaders();
      case 'sized-body': return this.readSizedBody(frames);
      case 'scanned-body': return this.scanBody(frames);
      case 'discard': return this.discardPart();
      case 'closed': this.buffer.clear(); return false;
    }
  }

  private setBoundary(boundary: string): void {
    const bare = boundary.replace(/^-+/, '');
    if (bare.length === 0) return;
    this.bareBoundary = bare;
    this.delimiter = Buffer.from(`--${bare}`, 'latin1');
  }

  /** Takes one line (without its CR LF or LF) off the buffer, or returns undefined if no whole line is there yet. */
  private takeLine(): string | undefined {
    const end = this.buffer.indexOf(LF);
    if (end < 0) return undefined;
    const line = this.buffer.view().toString('latin1', 0, end);
    this.buffer.skip(end + 1);
    return line.trimEnd();
  }

  /** Tells a delimiter line (`--boundary`, any number of leading dashes) and the closing one from anything else. */
  private classify(line: string): 'delimiter' | 'close' | 'other' {
    if (!line.startsWith('--')) return 'other';
    const bare = line.replace(/^-+/, '');
    if (this.bareBoundary === undefined) {
      // No boundary in the Content-Type (ffmpeg serves application/octet-stream): the first `--` line names it.
      if (bare.length === 0 || bare.length > MAX_BOUNDARY_LENGTH || bare.includes(' ')) return 'other';
      this.setBoundary(bare);
      return 'delimiter';
    }
    if (bare === this.bareBoundary) return 'delimiter';
    if (bare === `${this.bareBoundary}--`) return 'close';
    return 'other';
  }

  private seekBoundary(): boolean {
    const line = this.takeLine();
    if (line === undefined) {
      if (this.skippedBytes + this.buffer.length > this.limits.maxGarbageBytes) this.noBoundary();
      return false;
    }
    const kind = line.length === 0 ? 'other' : this.classify(line);
    if (kind === 'delimiter') {
      this.startHeaders();
    } else if (kind === 'close') {
      this.state = 'closed';
    } else {
      this.skippedBytes += line.length + 1;
      if (this.skippedBytes > this.limits.maxGarbageBytes) this.noBoundary();
    }
    return true;
  }

  private noBoundary(): never {
    throw new AdapterError('PROTOCOL', `no multipart boundary line within ${this.limits.maxGarbageBytes} bytes`);
  }

  private startHeaders(): void {
    this.state = 'headers';
    this.headerBytes = 0;
    this.contentLength = -1;
    this.skippedBytes = 0;
  }

  private readHeaders(): boolean {
    if (this.buffer.length >= 2 && this.buffer.byteAt(0) === 0xff && this.buffer.byteAt(1) === 0xd8) {
      this.startBody(); // the JPEG follows the headers with no blank line between, as some cameras send it
      return true;
    }
    const before = this.buffer.length;
    const line = this.takeLine();
    if (line === undefined) {
      if (this.headerBytes + this.buffer.length > this.limits.maxHeaderBytes) this.headersTooLarge();
      return false;
    }
    this.headerBytes += before - this.buffer.length;
    if (this.headerBytes > this.limits.maxHeaderBytes) this.headersTooLarge();
    if (line.trim().length === 0) {
      this.startBody();
      return true;
    }
    const kind = this.classify(line);
    if (kind === 'delimiter') {
      this.startHeaders(); // a repeated boundary line: Foscam G2 sends two in a row
      return true;
    }
    if (kind === 'close') {
      this.state = 'closed';
      return true;
    }
    const colon = line.indexOf(':');
    if (colon > 0 && line.slice(0, colon).trim().toLowerCase() === 'content-length') {
      this.contentLength = this.parseContentLength(line.slice(colon + 1).trim());
    }
    return true; // other headers and lines without a colon carry nothing we need
  }

  private headersTooLarge(): never {
    throw new AdapterError('PROTOCOL', `multipart part headers larger than ${this.limits.maxHeaderBytes} bytes`);
  }

  private parseContentLength(value: string): number {
    if (!/^\d{1,10}$/.test(value)) throw new AdapterError('PROTOCOL', `multipart part with Content-Length "${value.slice(0, 20)}"`);
    const length = Number(value);
    if (length > this.limits.maxPartBytes) this.partTooLarge(length);
    return length;
  }

  private partTooLarge(length: number): never {
    throw new AdapterError('PROTOCOL', `multipart part of ${length} bytes is larger than the ${this.limits.maxPartBytes} byte limit`);
  }

  private startBody(): void {
    if (this.contentLength >= 0) {
      this.state = 'sized-body';
      return;
    }
    this.state = 'scanned-body';
    this.splitter = new JpegSplitter(this.limits.maxPartBytes);
    this.fedBytes = 0;
    this.delimiterSearchFrom = 0;
  }

  private readSizedBody(frames: Buffer[]): boolean {
    if (this.buffer.length < this.contentLength) return false;
    // Some cameras count the CR LF that ends the part in its Content-Length.
    const payload = trimLineEnds(this.buffer.take(this.contentLength));
    this.finishPart(isCompleteJpeg(payload) ? payload : undefined, frames);
    return true;
  }

  /** A part without Content-Length: its JPEG ends at the EOI the splitter finds, unless a boundary line comes first. */
  private scanBody(frames: Buffer[]): boolean {
    const view = this.buffer.view();
    let found: Buffer[] = [];
    if (this.fedBytes < view.length) {
      try {
        found = this.splitter!.push(view.subarray(this.fedBytes));
      } catch (error) {
        if (!(error instanceof JpegSplitError)) throw error;
        if (view.length > this.limits.maxPartBytes) this.partTooLarge(view.length);
        this.state = 'discard'; // a malformed JPEG segment: drop this part, resume at the next boundary
        this.droppedParts++;
        return true;
      }
      this.fedBytes = view.length;
    }
    const delimiterAt = this.findDelimiter(view);
    const first = found[0];
    if (first !== undefined) {
      if (first.length > this.limits.maxPartBytes) this.partTooLarge(first.length);
      const end = view.indexOf(SOI) + first.length;
      if (delimiterAt >= 0 && delimiterAt < end) {
        this.buffer.skip(delimiterAt); // the JPEG was cut short and the next part began: drop the broken one
        this.finishPart(undefined, frames);
      } else {
        this.buffer.skip(end);
        this.finishPart(first, frames);
      }
      return true;
    }
    if (delimiterAt >= 0) {
      this.buffer.skip(delimiterAt); // a part with no JPEG end before the next boundary: not a JPEG
      this.finishPart(undefined, frames);
      return true;
    }
    if (view.length > this.limits.maxPartBytes) this.partTooLarge(view.length);
    return false;
  }

  /** Skips a malformed part's bytes, keeping only enough to recognise the next boundary line. */
  private discardPart(): boolean {
    const view = this.buffer.view();
    const delimiterAt = this.findDelimiter(view);
    if (delimiterAt >= 0) {
      this.buffer.skip(delimiterAt);
      this.state = 'boundary';
      this.skippedBytes = 0;
      return true;
    }
    const keep = this.delimiter!.length + 2;
    if (view.length > keep) {
      this.buffer.skip(view.length - keep);
      this.delimiterSearchFrom = 0;
    }
    return false;
  }

  /** Offset of the first boundary line at or after the search mark, or -1. */
  private findDelimiter(view: Buffer): number {
    const needle = this.delimiter!;
    let from = this.delimiterSearchFrom;
    for (;;) {
      const at = view.indexOf(needle, from);
      if (at < 0) {
        this.delimiterSearchFrom = Math.max(0, view.length - needle.length);
        return -1;
      }
      let lineStart = at;
      while (lineStart > 0 && view[lineStart - 1] === 0x2d) lineStart--;
      if (lineStart === 0 || view[lineStart - 1] === LF) return lineStart;
      from = at + 1;
    }
  }

  private finishPart(payload: Buffer | undefined, frames: Buffer[]): void {
    if (payload) {
      frames.push(payload);
      this.frameParts++;
    } else {
      this.droppedParts++;
    }
    this.splitter = undefined;
    this.state = 'boundary';
    this.skippedBytes = 0;
  }
}

/** Drops the CR and LF bytes some cameras put after a JPEG inside its declared length; the image ends at FF D9. */
export function trimLineEnds(data: Buffer): Buffer {
  let end = data.length;
  while (end > 0 && (data[end - 1] === 0x0a || data[end - 1] === 0x0d)) end--;
  return end === data.length ? data : data.subarray(0, end);
}
