import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { StderrTail } from '../../lib/stderr-tail.ts';
import type { EncodedVideoFrame } from '../../media/types.ts';
import { flvHeader, flvSequenceHeader, flvVideoTag } from '../../media/flv/mux.ts';

/** Bytes waiting in ffmpeg's stdin beyond this drop frames up to the next keyframe: a stuck disk must not grow memory. */
const MAX_QUEUED_BYTES = 8 * 1024 * 1024;
/** After stdin closes, ffmpeg gets this long to write its last fragment before SIGKILL. */
const EXIT_GRACE_MS = 3000;

/**
 * ffmpeg arguments that copy FLV-wrapped H.264 from stdin into one fragmented MP4: an empty moov first, then a
 * moof+mdat pair at every keyframe and at least every second, each flushed at once, so that a file cut short by a
 * crash plays up to its last whole fragment.
 */
export function segmentWriterArgs(path: string): string[] {
  // -analyzeduration 1, not 0: 0 means ffmpeg's default 5 s, and a 64 kbit/s recording then waited 4 s for 32 KB.
  return [
    '-hide_banner', '-nostats', '-loglevel', 'error',
    '-probesize', '32768', '-analyzeduration', '1', '-f', 'flv', '-i', 'pipe:0',
    '-map', '0:v:0', '-c', 'copy',
    '-f', 'mp4', '-movflags', '+frag_keyframe+empty_moov+default_base_moof', '-frag_duration', '1000000',
    '-flush_packets', '1', '-y', path,
  ];
}

/** How a writer ended: `failed` is set when ffmpeg exited by itself with an error (disk full, unwritable path). */
export interface WriterEnd {
  readonly failed: string | undefined;
}

/**
 * One ffmpeg in copy mode writing one segment file from encoded frames. Timestamps in the file start at the first
 * frame's decode time. close() is safe to call twice.
 */
export class SegmentWriter {
  readonly stderr = new StderrTail(10);
  readonly ended: Promise<WriterEnd>;
  framesWritten = 0;
  framesDropped = 0;
  private readonly child: ChildProcessWithoutNullStreams;
  private firstDts: number | undefined;
  private waitingForKeyframe = false;
  private closing = false;

  constructor(ffmpegPath: string, readonly path: string) {
    this.child = spawn(ffmpegPath, segmentWriterArgs(path), { stdio: ['pipe', 'pipe', 'pipe'] });
    this.child.stdin.on('error', () => {}); // EPIPE when ffmpeg dies: reported through `ended` with its stderr.
    this.child.stdout.resume();
    this.child.stderr.on('data', (chunk: Buffer) => this.stderr.push(chunk));
    let spawnError: string | undefined;
    this.child.on('error', (error) => {
      spawnError = `cannot run ${ffmpegPath}: ${error.message}`;
    });
    this.ended = new Promise((resolve) => {
      this.child.on('close', (code, signal) => {
        const clean = this.closing && (code === 0 || signal === 'SIGKILL');
        resolve({ failed: clean ? undefined : spawnError ?? `ffmpeg exited with ${signal ?? `code ${code}`}: ${this.stderr.lastLine || 'no error output'}` });
      });
    });
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** Writes one frame; the first must be a keyframe. Returns false when it was dropped. */
  write(frame: EncodedVideoFrame): boolean {
    const stdin = this.child.stdin;
    if (this.closing || !stdin.writable) return false;
    if (this.firstDts === undefined) {
      if (!frame.keyframe) return false;
      this.firstDts = frame.dts;
      stdin.write(Buffer.concat([flvHeader(), flvSequenceHeader(frame.track, 0)]));
    }
    if ((this.waitingForKeyframe && !frame.keyframe) || stdin.writableLength > MAX_QUEUED_BYTES) {
      this.waitingForKeyframe = true;
      this.framesDropped++;
      return false;
    }
    this.waitingForKeyframe = false;
    stdin.write(flvVideoTag(frame, frame.dts - this.firstDts));
    this.framesWritten++;
    return true;
  }

  /** Ends the file: ffmpeg writes its last fragment and exits (SIGKILL after a grace period). */
  close(): Promise<WriterEnd> {
    if (!this.closing) {
      this.closing = true;
      this.child.stdin.end();
      const timer = setTimeout(() => this.child.kill('SIGKILL'), EXIT_GRACE_MS);
      void this.ended.then(() => clearTimeout(timer));
    }
    return this.ended;
  }
}
