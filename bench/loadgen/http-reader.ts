/** Takes body bytes as they arrive; `at` is the arrival time (clock.now()) of the read that carried them. */
export interface BodySink {
  push(bytes: Buffer, at: number): void;
}

/** A response head larger than this is refused: the servers under test send a few hundred bytes. */
const MAX_HEAD_BYTES = 16 * 1024;
const MAX_CHUNK_LINE = 64;

/**
 * Reads one HTTP/1.1 response from raw socket reads with as little work as possible: the head once, then the body,
 * de-chunked in place (slices, no copies) when the server uses chunked transfer encoding.
 */
export class ResponseReader {
  status = 0;
  failure: string | undefined;
  private head: Buffer[] = [];
  private headBytes = 0;
  private inBody = false;
  private chunked = false;
  /** Chunked state: bytes of data left in the current chunk, or -1 while reading a size line. */
  private chunkLeft = -1;
  private sizeLine = '';
  /** CR LF bytes to skip after a chunk's data. */
  private trailerLeft = 0;

  constructor(
    private readonly body: BodySink,
    private readonly onHead: (status: number) => void,
  ) {}

  push(bytes: Buffer, at: number): void {
    if (this.failure) return;
    if (!this.inBody) {
      const rest = this.readHead(bytes);
      if (!rest || this.failure) return;
      bytes = rest;
    }
    if (this.chunked) this.dechunk(bytes, at);
    else if (bytes.length > 0) this.body.push(bytes, at);
  }

  private readHead(bytes: Buffer): Buffer | undefined {
    this.head.push(bytes);
    this.headBytes += bytes.length;
    const all = this.head.length === 1 ? bytes : Buffer.concat(this.head);
    const end = all.indexOf('\r\n\r\n');
    if (end < 0) {
      if (this.headBytes > MAX_HEAD_BYTES) this.failure = 'response head too large';
      return undefined;
    }
    const text = all.toString('latin1', 0, end);
    this.status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(text)?.[1] ?? 0);
    this.chunked = /\r\ntransfer-encoding:\s*chunked/i.test(text);
    this.inBody = true;
    this.head = [];
    this.onHead(this.status);
    return all.subarray(end + 4);
  }

  private dechunk(bytes: Buffer, at: number): void {
    let offset = 0;
    while (offset < bytes.length) {
      if (this.trailerLeft > 0) {
        const skip = Math.min(this.trailerLeft, bytes.length - offset);
        this.trailerLeft -= skip;
        offset += skip;
      } else if (this.chunkLeft < 0) {
        const newline = bytes.indexOf(10, offset);
        const end = newline < 0 ? bytes.length : newline;
        this.sizeLine += bytes.toString('latin1', offset, end);
        offset = newline < 0 ? bytes.length : newline + 1;
        if (this.sizeLine.length > MAX_CHUNK_LINE) {
          this.failure = 'chunk size line too long';
          return;
        }
        if (newline < 0) return;
        const size = parseInt(this.sizeLine.trim(), 16);
        this.sizeLine = '';
        if (!Number.isFinite(size)) {
          this.failure = 'bad chunk size';
          return;
        }
        this.chunkLeft = size;
        if (size === 0) this.failure = 'stream ended';
      } else {
        const take = Math.min(this.chunkLeft, bytes.length - offset);
        this.body.push(bytes.subarray(offset, offset + take), at);
        this.chunkLeft -= take;
        offset += take;
        if (this.chunkLeft === 0) {
          this.chunkLeft = -1;
          this.trailerLeft = 2;
        }
      }
    }
  }
}
