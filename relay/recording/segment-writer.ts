import { open } from 'node:fs/promises';
import type { AudioUnit } from '../../adapters/types.ts';
import type { AudioTrack, H264Unit } from '../../media/types.ts';
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
  ENOENT: 'the file or its folder is gone',
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
 * a file cut short by kill -9 or a power cut plays up to the last second. The file is opened for each write and
 * closed after it, so no file stays open between fragments (an operator can remount the disk read-only at any time).
 * close() is safe to call twice.
 */
export class SegmentWriter {
  readonly ended: Promise<WriterEnd>;
  framesWritten = 0;
  framesDropped = 0;
  private fragmenter: Fmp4Fragmenter | undefined;
  private waitingForKeyframe = false;
  private closing = false;
  private failure: string | undefined;
  private flushTimer: NodeJS.Timeout | undefined;
  /** Bytes cut but not yet on disk, and whether a write is under way. */
  private queue: Buffer[] = [];
  private queuedBytes = 0;
  private writing = false;
  private created = false;
  private position = 0;
  private finish!: (end: WriterEnd) => void;

  /** `audio`: the camera's AAC track when it has sound, announced in the init segment beside the picture. */
  constructor(readonly path: string, readonly audio?: AudioTrack) {
    this.ended = new Promise((resolve) => (this.finish = resolve));
  }

  /** Writes one frame; the first must be a keyframe. Returns false when it was dropped. */
  write(frame: H264Unit): boolean {
    if (this.closing || this.failure !== undefined) return false;
    if (!this.fragmenter) {
      if (!frame.keyframe) return false;
      this.fragmenter = new Fmp4Fragmenter(frame.track, this.audio);
    }
    if (frame.track !== this.fragmenter.track) return false; // a new track is a new file: the recorder starts one
    if ((this.waitingForKeyframe && !frame.keyframe) || this.queuedBytes > MAX_QUEUED_BYTES) {
      // What came before the drop ends there: a gap in the file, not a frame frozen across it.
      if (!this.waitingForKeyframe) this.flush();
      this.waitingForKeyframe = true;
      this.framesDropped++;
      return false;
    }
    this.waitingForKeyframe = false;
    for (const bytes of this.fragmenter.push(frame, performance.now())) this.append(bytes);
    this.framesWritten++;
    this.scheduleFlush();
    return true;
  }

  /** Adds one audio frame; give it before the first picture at or after its time. Returns false when it was dropped. */
  writeAudio(unit: AudioUnit): boolean {
    if (this.closing || this.failure !== undefined || this.waitingForKeyframe || !this.fragmenter) return false;
    return this.fragmenter.pushAudio(unit);
  }

  /** Writes the last fragment and ends the file; gives up on a disk that does not take it within a grace period. */
  close(): Promise<WriterEnd> {
    if (!this.closing) {
      this.closing = true;
      clearTimeout(this.flushTimer);
      this.flush();
      if (!this.writing) this.end();
      const timer = setTimeout(() => {
        this.failure ??= `the disk did not take the last fragment within ${CLOSE_GRACE_MS / 1000} s`;
        this.end();
      }, CLOSE_GRACE_MS);
      void this.ended.then(() => clearTimeout(timer));
    }
    return this.ended;
  }

  private flush(): void {
    const bytes = this.fragmenter?.flush();
    if (bytes) this.append(bytes);
  }

  private append(bytes: Buffer): void {
    if (this.failure !== undefined) return;
    this.queue.push(bytes);
    this.queuedBytes += bytes.length;
    if (!this.writing) void this.drain();
  }

  /** Writes the queue to the file, one write at a time, until it is empty or a write fails. */
  private async drain(): Promise<void> {
    this.writing = true;
    while (this.queue.length > 0 && this.failure === undefined) {
      const bytes = this.queue.length === 1 ? this.queue[0]! : Buffer.concat(this.queue);
      this.queue = [];
      try {
        // `wx` at first: a recording is never overwritten, whatever the clock did; then `r+`: a deleted file is not recreated.
        const file = await open(this.path, this.created ? 'r+' : 'wx');
        this.created = true;
        try {
          for (let done = 0; done < bytes.length;) {
            done += (await file.write(bytes, done, bytes.length - done, this.position + done)).bytesWritten;
          }
          this.position += bytes.length;
        } finally {
          await file.close();
        }
      } catch (error) {
        this.failure ??= describeWriteError(error as NodeJS.ErrnoException);
      }
      this.queuedBytes -= bytes.length;
    }
    this.writing = false;
    if (this.closing || this.failure !== undefined) this.end();
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
    this.queue = [];
    this.finish({ failed: this.failure });
  }
}
