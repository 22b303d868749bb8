import type PQueue from 'p-queue';
import type { AudioUnit } from '../../adapters/types.ts';
import { AdtsReader } from '../../media/aac/adts.ts';
import { aacTrack } from '../../media/aac/config.ts';
import type { AudioTrack } from '../../media/types.ts';
import { startProcess, type RunningProcess } from '../../lib/ffmpeg-runner.ts';
import type { Logger } from '../../lib/log.ts';
import type { ProcessSlots } from '../../lib/process-slots.ts';
import { StderrTail } from '../../lib/stderr-tail.ts';
import type { Feed } from '../core/feed.ts';
import { Hub } from '../core/hub.ts';
import { Supervisor } from '../core/supervisor.ts';
import { AAC_OUTPUT_RATE, audioConverterArgs, convertible } from './audio-args.ts';
import { SampleClock } from './sample-clock.ts';
import type { EncoderCounters } from './shared-encoder.ts';

/** Raw samples waiting in the converter's stdin beyond this are dropped (a stuck ffmpeg must not grow memory). */
const MAX_STDIN_BYTES = 256 * 1024;
const EXIT_GRACE_MS = 1_000;
const AAC_FRAME_SAMPLES = 1024;
/** Camera frames kept while the converter starts (G.711 packets are 20 to 128 ms: a few seconds' worth). */
const MAX_WAITING_FRAMES = 100;

export interface AacAudioOptions {
  readonly id: string;
  readonly feed: Feed;
  readonly ffmpegPath: string;
  readonly startQueue: PQueue;
  readonly processSlots: ProcessSlots;
  readonly log: Logger;
}

/** Receives the camera's sound as AAC frames on the camera's timeline. */
export type AacListener = (unit: AudioUnit) => void;

/**
 * A camera's sound as AAC, for every stream of it that carries sound (FLV, HLS): the camera's own AAC passed on
 * (`copy`, no process), or G.711 converted by one supervised ffmpeg, however many streams and viewers use it.
 * Started with the first stream that wants sound; a camera without audio costs nothing.
 */
export class AacAudio {
  readonly counters: EncoderCounters = { framesIn: 0, framesDropped: 0, framesOut: 0, bytesOut: 0 };
  private readonly hub: Hub<AudioUnit>;
  private readonly stderr = new StderrTail(20);
  private unsubscribe: (() => void) | undefined;
  /** The camera's track being converted, while a converter runs. */
  private converting: AudioTrack | undefined;
  private supervisor: Supervisor | undefined;
  private child: { process: RunningProcess; clock: SampleClock } | undefined;
  private unsupported = '';
  /** Camera frames that came while the converter was starting; written as soon as it runs. */
  private waiting: AudioUnit[] = [];

  constructor(private readonly options: AacAudioOptions) {
    this.hub = new Hub<AudioUnit>({
      keyframe: () => true,
      size: (unit) => unit.data.length,
      onSubscriberError: (error) => options.log.error(`audio listener failed and was removed: ${error.message}`),
    });
  }

  get id(): string {
    return this.options.id;
  }

  /** `copy` for a camera sending AAC, `aac` while converting, undefined before its first audio frame. */
  get mode(): 'copy' | 'aac' | undefined {
    if (this.converting) return 'aac';
    return this.hub.latest ? 'copy' : undefined;
  }

  /** The camera's codec this reads, for /stat.json. */
  get inputCodec(): string | undefined {
    return this.converting?.codec ?? this.hub.latest?.track.codec;
  }

  /** The AAC track now going out; undefined until the first frame. */
  get track(): AudioTrack | undefined {
    return this.hub.latest?.track;
  }

  get state(): string {
    if (this.supervisor) return this.supervisor.state;
    return this.hub.latest ? 'live' : 'idle';
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

  get stderrTail(): string {
    return this.unsupported || this.stderr.text;
  }

  subscribe(listener: AacListener): () => void {
    return this.hub.subscribe(listener);
  }

  start(): void {
    this.unsubscribe ??= this.options.feed.subscribeAudio((unit) => this.onCameraAudio(unit));
  }

  /** Stops for good; safe to call twice. */
  async close(): Promise<void> {
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    this.hub.clearSubscribers();
    await this.stopConverter();
  }

  private onCameraAudio(unit: AudioUnit): void {
    this.counters.framesIn++;
    const track = unit.track;
    if (track.codec === 'aac') {
      if (this.converting) void this.stopConverter();
      this.publish(unit);
      return;
    }
    if (!convertible(track)) {
      this.counters.framesDropped++;
      this.unsupported = `the camera's ${track.codec} audio cannot be converted to AAC yet`;
      return;
    }
    const same = this.converting && this.converting.codec === track.codec && this.converting.sampleRate === track.sampleRate && this.converting.channels === track.channels;
    if (!same) this.startConverter(track);
    if (!this.child) {
      // The process is starting: the sound waits for it instead of being lost, within a bound.
      this.waiting.push(unit);
      if (this.waiting.length > MAX_WAITING_FRAMES) {
        this.waiting.shift();
        this.counters.framesDropped++;
      }
      return;
    }
    this.write(unit);
  }

  private write(unit: AudioUnit): void {
    const child = this.child;
    if (!child?.process.stdinOpen || !child.process.write(unit.data)) {
      this.counters.framesDropped++;
      return;
    }
    child.clock.wrote(unit.data.length / unit.track.channels, unit.pts);
  }

  private startConverter(track: AudioTrack): void {
    void this.stopConverter();
    this.converting = track;
    this.unsupported = '';
    this.supervisor = new Supervisor({
      name: this.options.id,
      startQueue: this.options.startQueue,
      log: this.options.log,
      task: (signal, live) => this.runConverter(track, signal, live),
    });
    this.supervisor.start();
  }

  private async stopConverter(): Promise<void> {
    const supervisor = this.supervisor;
    this.supervisor = undefined;
    this.converting = undefined;
    this.child = undefined;
    this.waiting = [];
    await supervisor?.stop();
  }

  private async runConverter(input: AudioTrack, signal: AbortSignal, live: () => void): Promise<void> {
    const process = await startProcess(this.options.processSlots, {
      command: this.options.ffmpegPath, args: audioConverterArgs(input), signal,
      stdinBudget: MAX_STDIN_BYTES, graceMs: EXIT_GRACE_MS, stopSignal: null, stderr: this.stderr,
    });
    if (!process) return;
    const rate = AAC_OUTPUT_RATE;
    const clock = new SampleClock(rate, rate / input.sampleRate);
    this.child = { process, clock };
    const waiting = this.waiting;
    this.waiting = [];
    for (const unit of waiting) this.write(unit);
    const reader = new AdtsReader();
    let track: AudioTrack | undefined;
    process.stdout.on('data', (chunk: Buffer) => {
      for (const frame of reader.push(chunk)) {
        const time = clock.next(AAC_FRAME_SAMPLES);
        if (time === undefined) continue;
        if (!track || !track.config?.equals(frame.config)) track = aacTrack(frame.config);
        this.publish({ track, data: frame.data, pts: time, dts: time, keyframe: true });
        live();
      }
    });
    const exit = await process.exit;
    if (this.child?.process === process) this.child = undefined;
    if (!exit.aborted) throw new Error(`ffmpeg ${exit.how}: ${this.stderr.lastLine || 'no error output'}`);
  }

  private publish(unit: AudioUnit): void {
    this.counters.framesOut++;
    this.counters.bytesOut += unit.data.length;
    this.hub.publish(unit);
  }
}
