import { spawn, type ChildProcess } from 'node:child_process';
import { Readable } from 'node:stream';
import { UNLIMITED_SLOTS, type ProcessSlots } from './process-slots.ts';
import { StderrTail } from './stderr-tail.ts';

/** How one child process (ffmpeg, ffprobe) is run, stopped and heard. */
export interface RunOptions {
  /** The program, e.g. the relay's ffmpeg. */
  readonly command: string;
  readonly args: readonly string[];
  /** Stops the process: stdin closes, `stopSignal` is sent, and SIGKILL follows `graceMs` later. */
  readonly signal: AbortSignal;
  /** Bytes stdin may hold queued; a write that would pass it is refused. Without it stdin is /dev/null. */
  readonly stdinBudget?: number;
  /** 'ignore' sends stdout to /dev/null; `stdout` is then an empty stream. */
  readonly stdout?: 'pipe' | 'ignore';
  /** ms between the polite stop and SIGKILL; 0 (the default) kills at once. */
  readonly graceMs?: number;
  /** Sent when the grace period starts; null relies on stdin's end alone (ffmpeg reading stdin finishes on it). */
  readonly stopSignal?: NodeJS.Signals | null;
  /** Past this the process is killed, and the tail says why. */
  readonly timeoutMs?: number;
  /** Receives the stderr lines; a new 20-line tail by default. */
  readonly stderr?: StderrTail;
}

/** How a run ended. */
export interface ProcessExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  /** Set when the program could not be started at all (not installed, not executable). */
  readonly startError: Error | undefined;
  /** True when the run's AbortSignal had fired by the time it ended. */
  readonly aborted: boolean;
  /** "could not start", "exited with code 1" or "exited with SIGKILL", for error messages. */
  readonly how: string;
}

/**
 * One running child with the plumbing every spawn site needs: a stop on abort with a grace period then SIGKILL, a
 * bounded stderr tail, a stdin that refuses writes past its byte budget, and `exit`, which always resolves (never
 * rejects) once the process and its pipes are gone, after giving back the process slot it held.
 */
export class RunningProcess {
  readonly stderr: StderrTail;
  readonly stdout: Readable;
  readonly exit: Promise<ProcessExit>;
  private readonly child: ChildProcess | undefined;
  private readonly stdinBudget: number;
  private killTimer: NodeJS.Timeout | undefined;

  constructor(private readonly options: RunOptions, release: () => void = () => {}) {
    this.stderr = options.stderr ?? new StderrTail(20);
    this.stdinBudget = options.stdinBudget ?? 0;
    let settle!: (exit: ProcessExit) => void;
    this.exit = new Promise((resolve) => (settle = resolve));
    let child: ChildProcess | undefined;
    try {
      child = spawn(options.command, [...options.args], {
        stdio: [options.stdinBudget === undefined ? 'ignore' : 'pipe', options.stdout ?? 'pipe', 'pipe'],
      });
    } catch (error) {
      // Bad arguments throw at once rather than emitting 'error'.
      this.child = undefined;
      this.stdout = Readable.from([]);
      release();
      settle(this.ended(null, null, error as Error));
      return;
    }
    this.child = child;
    this.stdout = child.stdout ?? Readable.from([]);
    child.stdin?.on('error', () => {}); // EPIPE when the process dies: its exit reports it, with its stderr.
    child.stderr?.on('data', (chunk: Buffer) => this.stderr.push(chunk));
    const { signal } = options;
    const onAbort = (): void => this.stop();
    const timeout = options.timeoutMs === undefined ? undefined : setTimeout(() => {
      this.stderr.push(`relay: killed after ${options.timeoutMs! / 1000} s\n`);
      this.kill();
    }, options.timeoutMs);
    let startError: Error | undefined;
    let done = false;
    const finish = (code: number | null, exitSignal: NodeJS.Signals | null): void => {
      if (done) return;
      done = true;
      clearTimeout(timeout);
      clearTimeout(this.killTimer);
      signal.removeEventListener('abort', onAbort);
      release();
      settle(this.ended(code, exitSignal, startError));
    };
    child.on('error', (error) => {
      if (child.pid !== undefined) return; // a failed kill: the exit still comes
      startError = error;
      this.stderr.push(`relay: cannot run ${options.command}: ${error.message}\n`);
      finish(null, null);
    });
    child.on('close', finish);
    if (signal.aborted) this.stop();
    else signal.addEventListener('abort', onAbort, { once: true });
  }

  /** The process id while it runs. */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Bytes written to stdin and not yet taken by the process. */
  get stdinQueuedBytes(): number {
    return this.child?.stdin?.writableLength ?? 0;
  }

  /** True while stdin is open (it closes on stop, on the process's death, or without a budget). */
  get stdinOpen(): boolean {
    const stdin = this.child?.stdin;
    return !!stdin && !stdin.destroyed && stdin.writable;
  }

  /**
   * Queues `chunk` on stdin; false (and nothing queued) when stdin is closed or the chunk would pass the budget, so a
   * stuck process never grows the relay's memory. `written` runs once the process has taken the chunk.
   */
  write(chunk: Buffer, written?: () => void): boolean {
    if (!this.stdinOpen || this.stdinQueuedBytes + chunk.length > this.stdinBudget) return false;
    this.child!.stdin!.write(chunk, written && (() => written()));
    return true;
  }

  /** Closes stdin alone: the input is complete and the process finishes on its own (no stop signal, no kill). */
  endInput(): void {
    this.child?.stdin?.end();
  }

  /** Closes stdin, sends the stop signal, and SIGKILLs after the grace period (at once without one). */
  stop(): void {
    const child = this.child;
    if (!child || this.killTimer) return;
    child.stdin?.end();
    const grace = this.options.graceMs ?? 0;
    if (grace <= 0) return this.kill();
    const stopSignal = this.options.stopSignal === undefined ? 'SIGTERM' : this.options.stopSignal;
    if (stopSignal) child.kill(stopSignal);
    this.killTimer = setTimeout(() => this.kill(), grace);
  }

  /** SIGKILL now (a process that stalled or wrote something unreadable). */
  kill(): void {
    this.child?.kill('SIGKILL');
  }

  private ended(code: number | null, signal: NodeJS.Signals | null, startError: Error | undefined): ProcessExit {
    const how = startError ? 'could not start' : `exited with ${signal ?? `code ${code}`}`;
    return { code, signal, startError, aborted: this.options.signal.aborted, how };
  }
}

/** Starts the process at once, outside any slot limit (tools, exports a client waits for). */
export function spawnProcess(options: RunOptions): RunningProcess {
  return new RunningProcess(options);
}

/**
 * Waits for one of `slots` (MaxProcesses), then starts the process, which gives the slot back when it ends; undefined
 * when the signal aborts during the wait.
 */
export async function startProcess(slots: ProcessSlots, options: RunOptions): Promise<RunningProcess | undefined> {
  const release = await slots.acquire(options.signal);
  return release && new RunningProcess(options, release);
}

/** Runs the process to its end; the exit and the stdout it wrote (up to `maxStdoutBytes`, beyond which it is killed). */
export async function runToEnd(options: RunOptions, maxStdoutBytes: number, slots: ProcessSlots = UNLIMITED_SLOTS): Promise<{ exit: ProcessExit; stdout: Buffer } | undefined> {
  const run = await startProcess(slots, options);
  if (!run) return undefined;
  const chunks: Buffer[] = [];
  let size = 0;
  run.stdout.on('data', (chunk: Buffer) => {
    size += chunk.length;
    if (size > maxStdoutBytes) return run.kill();
    chunks.push(chunk);
  });
  const exit = await run.exit;
  return { exit, stdout: Buffer.concat(chunks) };
}
