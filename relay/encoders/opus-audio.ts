import type PQueue from 'p-queue';
import type { AudioUnit } from '../../adapters/types.ts';
import { adtsHeader } from '../../media/aac/adts.ts';
import { parseAudioSpecificConfig, type AacConfig } from '../../media/aac/config.ts';
import { isOpusTags, OggReader, readOpusHead } from '../../media/ogg.ts';
import { opusTrack } from '../../media/rtp/opus.ts';
import type { AudioTrack } from '../../media/types.ts';
import { startProcess, type RunningProcess } from '../../lib/ffmpeg-runner.ts';
import type { Logger } from '../../lib/log.ts';
import type { ProcessSlots } from '../../lib/process-slots.ts';
import { StderrTail } from '../../lib/stderr-tail.ts';
import { Hub } from '../core/hub.ts';
import { Supervisor } from '../core/supervisor.ts';
import { OPUS_OUTPUT_RATE, opusConverterArgs } from './audio-args.ts';
import { SampleClock } from './sample-clock.ts';
import type { EncoderCounters } from './shared-encoder.ts';

/** ADTS waiting in the converter's stdin beyond this is dropped (a stuck ffmpeg must not grow memory). */
const MAX_STDIN_BYTES = 64 * 1024;
const EXIT_GRACE_MS = 1_000;
/** Samples in every packet: the converter is told `-frame_duration 20`. */
const OPUS_PACKET_SAMPLES = 960;
/** AAC frames kept while the converter starts (about 2 s at 48 kHz). */
const MAX_WAITING_FRAMES = 100;

/** The camera's sound as AAC on its timeline (the camera's AacAudio part). */
export interface AacSource {
  subscribe(listener: (unit: AudioUnit) => void): () => void;
}

export interface OpusAudioOptions {
  readonly id: string;
  readonly aac: AacSource;
  readonly ffmpegPath: string;
  readonly startQueue: PQueue;
  readonly processSlots: ProcessSlots;
  readonly log: Logger;
}

/**
 * A camera's sound as Opus, for WebRTC: its AAC (the camera's own, or converted from G.711) converted by one
 * supervised ffmpeg, however many streams and viewers use it. The process runs only while someone subscribes;
 * packets keep the camera's times, so the sound stays in step with the picture.
 */
export class OpusAudio {
  readonly counters: EncoderCounters = { framesIn: 0, framesDropped: 0, framesOut: 0, bytesOut: 0 };
  private readonly hub: Hub<AudioUnit>;
  private readonly stderr = new StderrTail(20);
  private readonly track: AudioTrack = opusTrack(2);
  private unsubscribe: (() => void) | undefined;
  /** The AAC configuration being converted, while a converter runs. */
  private converting: { config: Buffer; aac: AacConfig } | undefined;
  private supervisor: Supervisor | undefined;
  private child: { process: RunningProcess; clock: SampleClock } | undefined;
  private waiting: AudioUnit[] = [];
  private closed = false;

  constructor(private readonly options: OpusAudioOptions) {
    this.hub = new Hub<AudioUnit>({
      keyframe: () => true,
      size: (unit) => unit.data.length,
      onSubscriberError: (error) => options.log.error(`Opus listener failed and was removed: ${error.message}`),
    });
  }

  get id(): string {
    return this.options.id;
  }

  /** True while someone listens (and the converter runs, or waits for the camera's first sound). */
  get active(): boolean {
    return this.unsubscribe !== undefined;
  }

  get state(): string {
    return this.supervisor?.state ?? (this.active ? 'starting' : 'idle');
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
    return this.stderr.text;
  }

  /** Adds a listener of the Opus packets; the first starts the converter, the last to leave stops it. */
  subscribe(listener: (unit: AudioUnit) => void): () => void {
    if (this.closed) return () => {};
    const remove = this.hub.subscribe(listener);
    this.unsubscribe ??= this.options.aac.subscribe((unit) => this.onAac(unit));
    let removed = false;
    return () => {
      if (removed) return;
      removed = true;
      remove();
      if (this.hub.subscriberCount === 0) void this.stop();
    };
  }

  /** Stops for good; safe to call twice. */
  async close(): Promise<void> {
    this.closed = true;
    this.hub.clearSubscribers();
    await this.stop();
  }

  private async stop(): Promise<void> {
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    await this.stopConverter();
  }

  private onAac(unit: AudioUnit): void {
    this.counters.framesIn++;
    const config = unit.track.config;
    if (unit.track.codec !== 'aac' || !config) {
      this.counters.framesDropped++;
      return;
    }
    if (!this.converting?.config.equals(config)) {
      let aac: AacConfig;
      try {
        aac = parseAudioSpecificConfig(config);
      } catch {
        this.counters.framesDropped++;
        return;
      }
      this.startConverter({ config, aac });
    }
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
    const aac = this.converting?.aac;
    if (!child?.process.stdinOpen || !aac) {
      this.counters.framesDropped++;
      return;
    }
    let header: Buffer;
    try {
      header = adtsHeader(aac, unit.data.length);
    } catch {
      this.counters.framesDropped++;
      return;
    }
    if (!child.process.write(Buffer.concat([header, unit.data]))) {
      this.counters.framesDropped++;
      return;
    }
    child.clock.wrote(aac.frameLength, unit.pts);
  }

  private startConverter(converting: { config: Buffer; aac: AacConfig }): void {
    void this.stopConverter();
    this.converting = converting;
    this.supervisor = new Supervisor({
      name: this.options.id,
      startQueue: this.options.startQueue,
      log: this.options.log,
      task: (signal, live) => this.runConverter(converting.aac, signal, live),
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

  private async runConverter(aac: AacConfig, signal: AbortSignal, live: () => void): Promise<void> {
    const process = await startProcess(this.options.processSlots, {
      command: this.options.ffmpegPath, args: opusConverterArgs(), signal,
      stdinBudget: MAX_STDIN_BYTES, graceMs: EXIT_GRACE_MS, stopSignal: null, stderr: this.stderr,
    });
    if (!process) return;
    // The encoder's delay is told by its OpusHead (pre-skip): times are taken off by it, not counted as a start frame.
    const clock = new SampleClock(OPUS_OUTPUT_RATE, OPUS_OUTPUT_RATE / aac.sampleRate, 0);
    this.child = { process, clock };
    const waiting = this.waiting;
    this.waiting = [];
    for (const unit of waiting) this.write(unit);
    const reader = new OggReader();
    let preSkipMs: number | undefined;
    process.stdout.on('data', (chunk: Buffer) => {
      for (const packet of reader.push(chunk)) {
        if (preSkipMs === undefined) {
          const head = readOpusHeadSafely(packet.data);
          if (head) preSkipMs = (head.preSkip * 1000) / OPUS_OUTPUT_RATE;
          continue;
        }
        if (isOpusTags(packet.data)) continue;
        const time = clock.next(OPUS_PACKET_SAMPLES);
        if (time === undefined) continue;
        const pts = time - preSkipMs;
        this.counters.framesOut++;
        this.counters.bytesOut += packet.data.length;
        this.hub.publish({ track: this.track, data: packet.data, pts, dts: pts, keyframe: true });
        live();
      }
    });
    const exit = await process.exit;
    if (this.child?.process === process) this.child = undefined;
    if (!exit.aborted) throw new Error(`ffmpeg ${exit.how}: ${this.stderr.lastLine || 'no error output'}`);
  }
}

/** The OpusHead in `packet`, or undefined for another packet or a malformed head (ffmpeg's is never malformed). */
function readOpusHeadSafely(packet: Buffer): ReturnType<typeof readOpusHead> {
  try {
    return readOpusHead(packet);
  } catch {
    return undefined;
  }
}
