import type PQueue from 'p-queue';
import type { AudioUnit } from '../../adapters/types.ts';
import { startProcess, type RunningProcess } from '../../lib/ffmpeg-runner.ts';
import type { Logger } from '../../lib/log.ts';
import type { ProcessSlots } from '../../lib/process-slots.ts';
import { StderrTail } from '../../lib/stderr-tail.ts';
import { Supervisor } from '../core/supervisor.ts';
import type { SampleClock } from './sample-clock.ts';
import type { EncoderCounters } from './shared-encoder.ts';

const EXIT_GRACE_MS = 1_000;

export interface AudioConverterOptions {
  readonly id: string;
  readonly ffmpegPath: string;
  readonly startQueue: PQueue;
  readonly processSlots: ProcessSlots;
  readonly log: Logger;
  readonly counters: EncoderCounters;
  /** Bytes waiting in ffmpeg's stdin beyond this are dropped (a stuck ffmpeg must not grow memory). */
  readonly maxStdinBytes: number;
  /** Input frames kept while the process starts; the oldest go first beyond this. */
  readonly maxWaitingFrames: number;
}

/** One conversion: ffmpeg's arguments, how an input frame is written, and how the output is read. */
export interface Conversion {
  readonly args: readonly string[];
  /** Bytes each process reads before the first frame (a container's header); none for raw samples. */
  header?(): Buffer;
  /** The clock that gives output frames the camera times of the samples they carry. */
  clock(): SampleClock;
  /** The bytes written for `unit` and the samples they hold (in input samples); undefined drops the frame. */
  input(unit: AudioUnit): { readonly bytes: Buffer; readonly samples: number } | undefined;
  /** Reads ffmpeg's stdout: `live` is called for each output frame published. */
  readOutput(stdout: NodeJS.ReadableStream, clock: SampleClock, live: () => void): void;
}

/**
 * The process half of a camera's sound converter (G.711 or Opus to AAC, AAC to Opus): one supervised ffmpeg for one
 * conversion at a time, restarted with backoff when it fails, fed the camera's frames (held within a bound while it
 * starts) with a bounded stdin. What is converted and how the output is read is the `Conversion`'s.
 */
export class AudioConverter {
  readonly stderr = new StderrTail(20);
  private supervisor: Supervisor | undefined;
  private child: { process: RunningProcess; clock: SampleClock } | undefined;
  private waiting: AudioUnit[] = [];

  constructor(private readonly options: AudioConverterOptions) {}

  /** True from `start` until `stop`, while a process runs or is being started. */
  get running(): boolean {
    return this.supervisor !== undefined;
  }

  get state(): string | undefined {
    return this.supervisor?.state;
  }

  get pid(): number | undefined {
    return this.child?.process.pid;
  }

  get restarts(): number {
    return this.supervisor?.restarts ?? 0;
  }

  get lastError(): { message: string; at: number } | undefined {
    return this.supervisor?.lastError;
  }

  /** Stops what runs and starts `conversion` (frames then go to it). */
  start(conversion: Conversion): void {
    void this.stop();
    const supervisor = new Supervisor({
      name: this.options.id,
      startQueue: this.options.startQueue,
      log: this.options.log,
      task: (signal, live) => this.run(conversion, signal, live),
    });
    this.supervisor = supervisor;
    supervisor.start();
  }

  async stop(): Promise<void> {
    const supervisor = this.supervisor;
    this.supervisor = undefined;
    this.child = undefined;
    this.waiting = [];
    await supervisor?.stop();
  }

  /** Writes a camera frame, or holds it while the process starts. */
  feed(unit: AudioUnit, conversion: Conversion): void {
    if (this.child) {
      this.write(unit, conversion);
      return;
    }
    // The process is starting: the sound waits for it instead of being lost, within a bound.
    this.waiting.push(unit);
    if (this.waiting.length > this.options.maxWaitingFrames) {
      this.waiting.shift();
      this.options.counters.framesDropped++;
    }
  }

  private write(unit: AudioUnit, conversion: Conversion): void {
    const child = this.child;
    const input = child?.process.stdinOpen ? conversion.input(unit) : undefined;
    if (!child || !input || !child.process.write(input.bytes)) {
      this.options.counters.framesDropped++;
      return;
    }
    child.clock.wrote(input.samples, unit.pts);
  }

  private async run(conversion: Conversion, signal: AbortSignal, live: () => void): Promise<void> {
    const process = await startProcess(this.options.processSlots, {
      command: this.options.ffmpegPath, args: [...conversion.args], signal,
      stdinBudget: this.options.maxStdinBytes, graceMs: EXIT_GRACE_MS, stopSignal: null, stderr: this.stderr,
    });
    if (!process) return;
    const clock = conversion.clock();
    const header = conversion.header?.();
    if (header) process.write(header);
    this.child = { process, clock };
    const waiting = this.waiting;
    this.waiting = [];
    for (const unit of waiting) this.write(unit, conversion);
    conversion.readOutput(process.stdout, clock, live);
    const exit = await process.exit;
    if (this.child?.process === process) this.child = undefined;
    if (!exit.aborted) throw new Error(`ffmpeg ${exit.how}: ${this.stderr.lastLine || 'no error output'}`);
  }
}
