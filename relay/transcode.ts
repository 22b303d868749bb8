import { spawn } from 'node:child_process';
import type PQueue from 'p-queue';
import type { Frame } from '../adapters/types.ts';
import { StderrTail } from '../adapters/common/stderr-tail.ts';
import type { StreamConfig } from '../conf/types.ts';
import type { Feed } from './feed.ts';
import { transcodeArgs, type FfmpegFeatures, type TranscodeOutput } from './ffmpeg-args.ts';
import type { Logger } from './log.ts';
import { Supervisor } from './supervisor.ts';

/** Frames waiting in ffmpeg's stdin beyond this are dropped: a stuck encoder must not grow the relay's memory. */
const MAX_STDIN_QUEUE_BYTES = 8 * 1024 * 1024;
/** ffmpeg that takes frames but writes nothing (FLV) or reports no progress (HLS) for this long is restarted. */
const OUTPUT_STALL_MS = 20_000;
/** After stdin closes, ffmpeg gets this long to flush before SIGKILL. */
const EXIT_GRACE_MS = 2_000;


export interface TranscodeOptions {
  readonly stream: StreamConfig;
  readonly feed: Feed;
  readonly ffmpegPath: string;
  readonly ffmpegFeatures: FfmpegFeatures;
  readonly output: TranscodeOutput;
  readonly startQueue: PQueue;
  readonly log: Logger;
  /** Called at the start of each ffmpeg process, before any of its output. */
  readonly onProcessStart?: () => void;
  readonly onStdout?: (chunk: Buffer) => void;
}

/**
 * One ffmpeg per transcoded Stream, fed the Feed's frames on stdin, supervised: restarted with backoff when it dies,
 * its stderr tail kept for errors and /stat.html, killed with the relay (and exiting by itself if the relay dies,
 * since its stdin then closes).
 */
export class Transcode {
  readonly supervisor: Supervisor;
  readonly stderr = new StderrTail(20);
  pid: number | undefined;
  framesWritten = 0;
  framesDropped = 0;
  bytesOut = 0;

  constructor(private readonly options: TranscodeOptions) {
    this.supervisor = new Supervisor({
      name: options.stream.name,
      startQueue: options.startQueue,
      log: options.log,
      task: (signal, live) => this.runOnce(signal, live),
    });
  }

  start(): void {
    this.supervisor.start();
  }

  stop(): Promise<void> {
    return this.supervisor.stop();
  }

  private async runOnce(signal: AbortSignal, live: () => void): Promise<void> {
    const first = await this.firstKeyframe(signal);
    if (!first) return;
    const args = transcodeArgs(this.options.stream, first.codec, this.options.output, this.options.ffmpegFeatures);
    const child = spawn(this.options.ffmpegPath, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    this.options.onProcessStart?.();
    return new Promise<void>((resolve, reject) => {
      let spawnFailed = false;
      let waitingForKeyframe = false;
      // Set when a frame goes in with no output since: ffmpeg silent that long while fed is stuck (a camera outage is not).
      let unansweredSince: number | undefined;
      let killTimer: NodeJS.Timeout | undefined;
      const write = (frame: Frame): void => {
        if (child.stdin.destroyed || !child.stdin.writable) return;
        if (waitingForKeyframe && !frame.keyframe) {
          this.framesDropped++;
          return;
        }
        if (child.stdin.writableLength > MAX_STDIN_QUEUE_BYTES) {
          this.framesDropped++;
          waitingForKeyframe = true;
          return;
        }
        waitingForKeyframe = false;
        child.stdin.write(frame.data);
        this.framesWritten++;
        unansweredSince ??= Date.now();
      };
      for (const frame of this.options.feed.groupOfPictures) write(frame);
      const unsubscribe = this.options.feed.subscribe(write);
      const stallCheck = setInterval(() => {
        if (unansweredSince === undefined || Date.now() - unansweredSince < OUTPUT_STALL_MS) return;
        this.stderr.push(`relay: no output for ${OUTPUT_STALL_MS / 1000} s while fed; restarting\n`);
        child.kill('SIGKILL');
      }, 1000);
      const onAbort = (): void => {
        child.stdin.end();
        killTimer = setTimeout(() => child.kill('SIGKILL'), EXIT_GRACE_MS);
      };
      signal.addEventListener('abort', onAbort, { once: true });
      child.stdin.on('error', () => {}); // EPIPE when ffmpeg dies: reported by 'close' with its stderr.
      child.stderr.on('data', (chunk: Buffer) => this.stderr.push(chunk));
      child.stdout.on('data', (chunk: Buffer) => {
        unansweredSince = undefined;
        if (this.options.output.kind === 'flv') this.bytesOut += chunk.length;
        this.options.onStdout?.(chunk);
        live();
      });
      child.on('spawn', () => {
        this.pid = child.pid;
      });
      child.on('error', (error) => {
        spawnFailed = true;
        this.stderr.push(`relay: cannot run ${this.options.ffmpegPath}: ${error.message}\n`);
      });
      child.on('close', (code, exitSignal) => {
        clearInterval(stallCheck);
        clearTimeout(killTimer);
        unsubscribe();
        signal.removeEventListener('abort', onAbort);
        this.pid = undefined;
        if (signal.aborted) return resolve();
        const how = spawnFailed ? 'could not start' : `exited with ${exitSignal ?? `code ${code}`}`;
        reject(new Error(`ffmpeg ${how}: ${this.stderr.lastLine || 'no error output'}`));
      });
    });
  }

  /** Waits for the camera's next keyframe (or uses the one the Feed holds), so ffmpeg starts on a decodable frame. */
  private firstKeyframe(signal: AbortSignal): Promise<Frame | undefined> {
    const held = this.options.feed.groupOfPictures[0];
    if (held) return Promise.resolve(held);
    return new Promise((resolve) => {
      const done = (frame: Frame | undefined): void => {
        unsubscribe();
        signal.removeEventListener('abort', onAbort);
        resolve(frame);
      };
      const onAbort = (): void => done(undefined);
      const unsubscribe = this.options.feed.subscribe((frame) => {
        if (frame.keyframe) done(frame);
      });
      signal.addEventListener('abort', onAbort, { once: true });
    });
  }
}

