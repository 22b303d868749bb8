import type PQueue from 'p-queue';
import type { AudioUnit } from '../../adapters/types.ts';
import { adtsHeader } from '../../media/aac/adts.ts';
import { parseAudioSpecificConfig, type AacConfig } from '../../media/aac/config.ts';
import { isOpusTags, OggReader, readOpusHead } from '../../media/ogg.ts';
import { opusTrack } from '../../media/rtp/opus.ts';
import type { AudioTrack } from '../../media/types.ts';
import type { Logger } from '../../lib/log.ts';
import type { ProcessSlots } from '../../lib/process-slots.ts';
import { OPUS_OUTPUT_RATE, opusConverterArgs } from './audio-args.ts';
import type { Conversion } from './audio-converter.ts';
import { AudioPart } from './audio-part.ts';
import { SampleClock } from './sample-clock.ts';

/** ADTS waiting in the converter's stdin beyond this is dropped (a stuck ffmpeg must not grow memory). */
const MAX_STDIN_BYTES = 64 * 1024;
/** Samples in every packet: the converter is told `-frame_duration 20`. */
const OPUS_PACKET_SAMPLES = 960;
/** AAC frames kept while the converter starts (about 2 s at 48 kHz). */
const MAX_WAITING_FRAMES = 100;

/** The camera's sound as AAC on its timeline (the camera's AacAudio part), and as the camera sends it. */
export interface AacSource {
  subscribe(listener: (unit: AudioUnit) => void): () => void;
  /** The camera's own sound frames, before any conversion. */
  subscribeCamera(listener: (unit: AudioUnit) => void): () => void;
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
 * A camera's sound as Opus, for WebRTC: a camera's own Opus passed on as it is (`copy`, no process); otherwise its AAC
 * (the camera's own, or converted from G.711) converted by one supervised ffmpeg, however many streams and viewers use it. The process runs only while someone subscribes;
 * packets keep the camera's times, so the sound stays in step with the picture.
 */
export class OpusAudio extends AudioPart {
  private readonly track: AudioTrack = opusTrack(2);
  private unsubscribe: (() => void) | undefined;
  private unsubscribeCamera: (() => void) | undefined;
  /** True while the camera's sound is Opus: its packets go out as they are, and its AAC is not converted back. */
  private copying = false;
  /** The AAC configuration being converted and how, while a converter runs. */
  private converting: { config: Buffer; conversion: Conversion } | undefined;
  private closed = false;

  constructor(private readonly options: OpusAudioOptions) {
    super(options, { name: 'Opus', maxStdinBytes: MAX_STDIN_BYTES, maxWaitingFrames: MAX_WAITING_FRAMES });
  }

  /** True while someone listens (and the converter runs, or waits for the camera's first sound). */
  get active(): boolean {
    return this.unsubscribe !== undefined;
  }

  get state(): string {
    if (this.copying && this.active) return 'live';
    return this.converter.state ?? (this.active ? 'starting' : 'idle');
  }

  /** Adds a listener of the Opus packets; the first starts the converter, the last to leave stops it. */
  subscribe(listener: (unit: AudioUnit) => void): () => void {
    if (this.closed) return () => {};
    const remove = this.hub.subscribe(listener);
    this.unsubscribe ??= this.options.aac.subscribe((unit) => this.onAac(unit));
    this.unsubscribeCamera ??= this.options.aac.subscribeCamera((unit) => this.onCamera(unit));
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
    this.unsubscribeCamera?.();
    this.unsubscribeCamera = undefined;
    this.copying = false;
    this.converting = undefined;
    await this.converter.stop();
  }

  /** The camera's own sound: Opus goes out as it is; any other codec comes through the AAC part instead. */
  private onCamera(unit: AudioUnit): void {
    this.copying = unit.track.codec === 'opus';
    if (!this.copying) return;
    if (this.converting) {
      this.converting = undefined;
      void this.converter.stop();
    }
    this.counters.framesIn++;
    this.counters.framesOut++;
    this.counters.bytesOut += unit.data.length;
    this.hub.publish({ ...unit, track: this.track });
  }

  private onAac(unit: AudioUnit): void {
    if (this.copying) return; // the camera's Opus goes out as it is (this AAC was made from it)
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
      this.converting = { config, conversion: this.conversionOf(aac) };
      this.converter.start(this.converting.conversion);
    }
    this.converter.feed(unit, this.converting.conversion);
  }

  /** AAC frames in as ADTS, Ogg Opus out, each packet at the camera time of its first sample. */
  private conversionOf(aac: AacConfig): Conversion {
    return {
      args: opusConverterArgs(),
      // The encoder's delay is told by its OpusHead (pre-skip): times are taken off by it, not counted as a start frame.
      clock: () => new SampleClock(OPUS_OUTPUT_RATE, OPUS_OUTPUT_RATE / aac.sampleRate, 0),
      input: (unit) => {
        try {
          return { bytes: Buffer.concat([adtsHeader(aac, unit.data.length), unit.data]), samples: aac.frameLength };
        } catch {
          return undefined;
        }
      },
      readOutput: (stdout, clock, live) => {
        const reader = new OggReader();
        let preSkipMs: number | undefined;
        stdout.on('data', (chunk: Buffer) => {
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
      },
    };
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
