import { JpegSplitter } from '../../media/jpeg/splitter.ts';
import type { StderrTail } from '../../lib/stderr-tail.ts';
import { spawnProcess } from '../../lib/ffmpeg-runner.ts';

/** Bytes waiting in the process's stdin beyond which writes are refused: a stuck process must not grow memory. */
const STDIN_BUDGET_BYTES = 8 * 1024 * 1024;

/** What runs an ffmpeg reading from stdin and writing JPEGs to stdout. */
export interface JpegProcessOptions {
  ffmpegPath: string;
  args: string[];
  maxFrameBytes: number;
  /** Named in the error when the process exits unasked, e.g. "JPEG transcoder". */
  label: string;
  stderr: StderrTail;
  signal: AbortSignal;
  /** Called for every whole JPEG, after `live`. */
  onJpeg: (data: Buffer) => void;
  live: () => void;
  /** Called once when the process has gone, before the result settles. */
  onClose?: () => void;
}

/** The process's stdin as its writers see it: open while the process runs and writes are under budget. */
export interface JpegProcessInput {
  readonly writable: boolean;
  readonly writableLength: number;
  write(chunk: Buffer): boolean;
}

/**
 * Starts the ffmpeg and hands each JPEG it writes to `onJpeg`; `stdin` takes its input, `done` resolves when the
 * signal stopped it and rejects, with the last stderr line, when it exited by itself or wrote something unreadable.
 */
export function startJpegProcess(options: JpegProcessOptions): { stdin: JpegProcessInput; done: Promise<void> } {
  const { signal, stderr } = options;
  const child = spawnProcess({ command: options.ffmpegPath, args: options.args, signal, stdinBudget: STDIN_BUDGET_BYTES, stderr });
  const splitter = new JpegSplitter(options.maxFrameBytes);
  child.stdout.on('data', (chunk: Buffer) => {
    try {
      for (const data of splitter.push(chunk)) {
        options.live();
        options.onJpeg(data);
      }
    } catch (error) {
      stderr.push(`relay: unreadable JPEG output: ${(error as Error).message}\n`);
      child.kill();
    }
  });
  const done = child.exit.then((exit) => {
    options.onClose?.();
    if (exit.aborted) return;
    throw new Error(`${options.label} ${exit.how}: ${stderr.lastLine || 'no error output'}`);
  });
  const stdin: JpegProcessInput = {
    get writable() {
      return child.stdinOpen;
    },
    get writableLength() {
      return child.stdinQueuedBytes;
    },
    write: (chunk) => child.write(chunk),
  };
  return { stdin, done };
}
