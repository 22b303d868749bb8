import { createWriteStream, type WriteStream } from 'node:fs';
import type { EncodedVideoFrame } from '../../media/types.ts';
import { Fmp4Fragmenter, MAX_UNWRITTEN_MS } from './fragmenter.ts';

/** Bytes waiting for the disk beyond this drop frames up to the next keyframe: a stuck disk must not grow memory. */
const MAX_QUEUED_BYTES = 8 * 1024 * 1024;
/** After close, the disk gets this long to take the last fragment before the writer gives up on it. */
const CLOSE_GRACE_MS = 3000;

/** What the usual write errors mean, for a log line an operator can act on. */
const WRITE_ERRORS: Readonly<Record<string, string>> = {
  ENOSPC: 'no space left on device',
  EDQUOT: 'disk quota exceeded',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EROFS: 'read-only file system',
  EIO: 'input/output error',
  ENOENT: 'its folder is gone',
  EEXIST: 'a file of that name exists',
};

/** One line for a failed open or write, e.g. `no space left on device (ENOSPC)`. */
export function describeWriteError(error: NodeJS.ErrnoException): string {
  const meaning = error.code === undefined ? undefined : WRITE_ERRORS[error.code];
  return meaning ? `${meaning} (${error.code})` : error.message;
}

/** How a writer ended: `failed` is set when the file could not be opened or written (disk full, unwritable path). */
export interface WriterEnd {
  readonly failed: string | undefined;
}

/**
 * Writes one segment file, a fragmented MP4, from encoded frames in this process: each fragment goes to the disk as
 * soon as it is cut (at every keyframe, every half second of media, and after a second without the next frame), so
 * a file cut short by kill -9 or a power cut plays up to the last second. close() is safe to call twice.
 */
export class SegmentWriter {
  readonly ended: Promise<WriterEnd>;
  framesWritten = 0;
  framesDropped = 0;
  private readonly file: WriteStream;
  private fragmenter: Fmp4Fragmenter | undefined;
  private waitingForKeyframe = false;
  private closing = false;
  private failure: string | undefined;
  private flushTimer: NodeJS.Timeout | undefined;
  private finish!: (end: WriterEnd) => void;

  constructor(readonly path: string) {
    this.ended = new Promise((resolve) => (this.finish = resolve));
    // `wx`: a recording is never overwritten, whatever the clock did.
    this.file = createWriteStream(path, { flags: 'wx' });
    this.file.on('error', (error: NodeJS.ErrnoException) => {
      this.failure ??= describeWriteError(error);
    });
    this.file.on('close', () => this.end());
  }

  /** Writes one frame; the first must be a keyframe. Returns false when it was dropped. */
  write(frame: EncodedVideoFrame): boolean {
    if (this.closing || this.failure !== undefined || this.file.destroyed) return false;
    if (!this.fragmenter) {
      if (!frame.keyframe) return false;
      this.fragmenter = new Fmp4Fragmenter(frame.track);
    }
    if (frame.track !== this.fragmenter.track) return false; // a new track is a new file: the recorder starts one
    if ((this.waitingForKeyframe && !frame.keyframe) || this.file.writableLength > MAX_QUEUED_BYTES) {
      // What came before the drop ends there: a gap in the file, not a frame frozen across it.
      if (!this.waitingForKeyframe) this.flush();
      this.waitingForKeyframe = true;
      this.framesDropped++;
      return false;
    }
    this.waitingForKeyframe = false;
    for (const bytes of this.fragmenter.push(frame, performance.now())) this.file.write(bytes);
    this.framesWritten++;
    this.scheduleFlush();
    return true;
  }

  /** Writes the last fragment and closes the file; gives up on a disk that does not take it within a grace period. */
  close(): Promise<WriterEnd> {
    if (!this.closing) {
      this.closing = true;
      clearTimeout(this.flushTimer);
      this.flush();
      this.file.end();
      const timer = setTimeout(() => {
        this.failure ??= `the disk did not take the last fragment within ${CLOSE_GRACE_MS / 1000} s`;
        this.file.destroy();
        this.end();
      }, CLOSE_GRACE_MS);
      void this.ended.then(() => clearTimeout(timer));
    }
    return this.ended;
  }

  private flush(): void {
    const bytes = this.fragmenter?.flush();
    if (bytes && this.failure === undefined && !this.file.destroyed) this.file.write(bytes);
  }

  /** Makes sure no frame waits unwritten longer than MAX_UNWRITTEN_MS when the next one is late (a stall). */
  private scheduleFlush(): void {
    if (this.flushTimer || !this.fragmenter || this.fragmenter.pendingFrames === 0) return;
    const due = MAX_UNWRITTEN_MS - this.fragmenter.waitedMs(performance.now());
    this.flushTimer = setTimeout(() => {
      this.flushTimer = undefined;
      if (this.closing || !this.fragmenter) return;
      if (this.fragmenter.waitedMs(performance.now()) >= MAX_UNWRITTEN_MS) this.flush();
      this.scheduleFlush();
    }, Math.max(0, due));
    this.flushTimer.unref();
  }

  private end(): void {
    clearTimeout(this.flushTimer);
    this.finish({ failed: this.closing ? this.failure : this.failure ?? 'the file was closed while being written' });
  }
}
