import { spawn } from 'node:child_process';
import type { Writable } from 'node:stream';
import { JpegSplitter } from '../../media/jpeg/splitter.ts';
import type { StderrTail } from '../../lib/stderr-tail.ts';

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

/**
 * Starts the ffmpeg and hands each JPEG it writes to `onJpeg`; `stdin` takes its input, `done` resolves when the
 * signal stopped it and rejects, with the last stderr line, when it exited by itself or wrote something unreadable.
 */
export function startJpegProcess(options: JpegProcessOptions): { stdin: Writable; done: Promise<void> } {
  const { signal, stderr } = options;
  const child = spawn(options.ffmpegPath, options.args, { stdio: ['pipe', 'pipe', 'pipe'] });
  const splitter = new JpegSplitter(options.maxFrameBytes);
  const done = new Promise<void>((resolve, reject) => {
    const onAbort = (): void => void child.kill('SIGKILL');
    signal.addEventListener('abort', onAbort, { once: true });
    child.stdin.on('error', () => {});
    child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
    child.stdout.on('data', (chunk: Buffer) => {
      try {
        for (const data of splitter.push(chunk)) {
          options.live();
          options.onJpeg(data);
        }
      } catch (error) {
        stderr.push(`relay: unreadable JPEG output: ${(error as Error).message}\n`);
        child.kill('SIGKILL');
      }
    });
    child.on('error', (error) => stderr.push(`relay: cannot run ${options.ffmpegPath}: ${error.message}\n`));
    child.on('close', (code, exitSignal) => {
      options.onClose?.();
      signal.removeEventListener('abort', onAbort);
      if (signal.aborted) return resolve();
      reject(new Error(`${options.label} exited with ${exitSignal ?? `code ${code}`}: ${stderr.lastLine || 'no error output'}`));
    });
  });
  return { stdin: child.stdin, done };
}
