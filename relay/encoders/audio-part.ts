import type { AudioUnit } from '../../adapters/types.ts';
import { Hub } from '../core/hub.ts';
import { AudioConverter, type AudioConverterOptions } from './audio-converter.ts';
import type { EncoderCounters } from './shared-encoder.ts';

/** What a camera's sound part needs of the relay: the converter's options but those the part itself sets. */
export type AudioPartOptions = Omit<AudioConverterOptions, 'counters' | 'maxStdinBytes' | 'maxWaitingFrames'>;

/** Each part's own: its name in log lines, and its converter's limits (AudioConverterOptions says what they bound). */
export interface AudioPartLimits {
  readonly name: string;
  readonly maxStdinBytes: number;
  readonly maxWaitingFrames: number;
}

/**
 * What a camera's sound parts (AAC for FLV and HLS, Opus for WebRTC) share: the hub their frames go out on, the one
 * supervised ffmpeg that converts when the camera's codec does not fit, and the figures of it that status shows.
 */
export abstract class AudioPart {
  readonly counters: EncoderCounters = { framesIn: 0, framesDropped: 0, framesOut: 0, bytesOut: 0 };
  protected readonly hub: Hub<AudioUnit>;
  protected readonly converter: AudioConverter;

  protected constructor(private readonly part: AudioPartOptions, limits: AudioPartLimits) {
    this.hub = new Hub<AudioUnit>({
      keyframe: () => true,
      size: (unit) => unit.data.length,
      onSubscriberError: (error) => part.log.error(`${limits.name} listener failed and was removed: ${error.message}`),
    });
    const { maxStdinBytes, maxWaitingFrames } = limits;
    this.converter = new AudioConverter({ ...part, counters: this.counters, maxStdinBytes, maxWaitingFrames });
  }

  get id(): string {
    return this.part.id;
  }

  get pid(): number | undefined {
    return this.converter.pid;
  }

  get restarts(): number {
    return this.converter.restarts;
  }

  get lastError(): { message: string; at: number } | undefined {
    return this.converter.lastError;
  }

  get stderrTail(): string {
    return this.converter.stderr.text;
  }
}
