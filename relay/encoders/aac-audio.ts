import type PQueue from 'p-queue';
import type { AudioUnit } from '../../adapters/types.ts';
import { AdtsReader } from '../../media/aac/adts.ts';
import { aacTrack } from '../../media/aac/config.ts';
import { MkvWriter } from '../../media/mkv-writer.ts';
import { opusPacketSamples } from '../../media/rtp/opus.ts';
import type { AudioTrack } from '../../media/types.ts';
import type { Logger } from '../../lib/log.ts';
import type { ProcessSlots } from '../../lib/process-slots.ts';
import type { Feed } from '../core/feed.ts';
import { AAC_OUTPUT_RATE, audioConverterArgs, convertible } from './audio-args.ts';
import type { Conversion } from './audio-converter.ts';
import { AudioPart } from './audio-part.ts';
import { SampleClock } from './sample-clock.ts';

/** Raw samples waiting in the converter's stdin beyond this are dropped (a stuck ffmpeg must not grow memory). */
const MAX_STDIN_BYTES = 256 * 1024;
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
 * (`copy`, no process), or G.711 or Opus converted by one supervised ffmpeg, however many streams and viewers use it.
 * Started with the first stream that wants sound; a camera without audio costs nothing.
 */
export class AacAudio extends AudioPart {
  private unsubscribe: (() => void) | undefined;
  /** The camera's track being converted and how, while a converter runs. */
  private converting: { track: AudioTrack; conversion: Conversion } | undefined;
  private unsupported = '';

  constructor(private readonly options: AacAudioOptions) {
    super(options, { name: 'audio', maxStdinBytes: MAX_STDIN_BYTES, maxWaitingFrames: MAX_WAITING_FRAMES });
  }

  /** `copy` for a camera sending AAC, `aac` while converting, undefined before its first audio frame. */
  get mode(): 'copy' | 'aac' | undefined {
    if (this.converting) return 'aac';
    return this.hub.latest ? 'copy' : undefined;
  }

  /** The camera's codec this reads, for /stat.json. */
  get inputCodec(): string | undefined {
    return this.converting?.track.codec ?? this.hub.latest?.track.codec;
  }

  /** The AAC track now going out; undefined until the first frame. */
  get track(): AudioTrack | undefined {
    return this.hub.latest?.track;
  }

  get state(): string {
    return this.converter.state ?? (this.hub.latest ? 'live' : 'idle');
  }

  override get stderrTail(): string {
    return this.unsupported || super.stderrTail;
  }

  subscribe(listener: AacListener): () => void {
    return this.hub.subscribe(listener);
  }

  /** The camera's own sound frames, before any conversion (a camera's Opus goes to WebRTC as it is). */
  subscribeCamera(listener: AacListener): () => void {
    return this.options.feed.subscribeAudio(listener);
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
    const current = this.converting?.track;
    const same = current && current.codec === track.codec && current.sampleRate === track.sampleRate && current.channels === track.channels;
    if (!same) this.startConverter(track);
    this.converter.feed(unit, this.converting!.conversion);
  }

  private startConverter(track: AudioTrack): void {
    this.unsupported = '';
    const conversion = this.conversionOf(track);
    this.converting = { track, conversion };
    this.converter.start(conversion);
  }

  private async stopConverter(): Promise<void> {
    this.converting = undefined;
    await this.converter.stop();
  }

  /**
   * G.711 (raw samples, one byte each) or Opus (Matroska blocks, a fresh header for each process) in, ADTS out, each AAC
   * frame at the camera time of its first sample.
   */
  private conversionOf(input: AudioTrack): Conversion {
    let mkv: MkvWriter | undefined;
    return {
      args: audioConverterArgs(input),
      header: input.codec === 'opus' ? () => (mkv = new MkvWriter(undefined, input)).header() : undefined,
      clock: () => new SampleClock(AAC_OUTPUT_RATE, AAC_OUTPUT_RATE / input.sampleRate),
      input: (unit) => {
        if (!mkv) return { bytes: unit.data, samples: unit.data.length / unit.track.channels };
        const samples = opusPacketSamples(unit.data);
        return samples > 0 ? { bytes: mkv.audioBlock(unit.data, unit.pts), samples } : undefined;
      },
      readOutput: (stdout, clock, live) => {
        const reader = new AdtsReader();
        let track: AudioTrack | undefined;
        stdout.on('data', (chunk: Buffer) => {
          for (const frame of reader.push(chunk)) {
            const time = clock.next(AAC_FRAME_SAMPLES);
            if (time === undefined) continue;
            if (!track || !track.config?.equals(frame.config)) track = aacTrack(frame.config);
            this.publish({ track, data: frame.data, pts: time, dts: time, keyframe: true });
            live();
          }
        });
      },
    };
  }

  private publish(unit: AudioUnit): void {
    this.counters.framesOut++;
    this.counters.bytesOut += unit.data.length;
    this.hub.publish(unit);
  }
}
