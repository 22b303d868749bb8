import { performance } from 'node:perf_hooks';
import type { AudioUnit } from '../../../adapters/types.ts';
import { audioFragment } from '../../../media/fmp4.ts';
import type { AudioTrack } from '../../../media/types.ts';
import { AudioInterleaver } from '../../core/audio-interleave.ts';
import { binaryFrame } from './frame.ts';
import { rawAudioUnit } from './raw-unit.ts';

/** Where a stream's WebSocket viewers get their sound: the camera's AAC part (relay/encoders/aac-audio.ts). */
export interface WsAudioSource {
  /** The AAC track now going out; undefined until the first frame. */
  readonly track: AudioTrack | undefined;
  subscribe(listener: (unit: AudioUnit) => void): () => void;
  /** The camera announced a sound track (true before its first frame reached the AAC part). */
  cameraHasSound(): boolean;
  /** The last few seconds of sound, oldest first, heard before the stream's first WebSocket viewer came. */
  recent(): readonly AudioUnit[];
}

/** Sound kept from before the first viewer: enough to cover the encoder's kept group of pictures. */
const RECENT_SOUND_MS = 5000;

/**
 * The last seconds of a camera's sound, kept while a stream is offered over WebSocket, so that the first viewer (for
 * whom the stream's packaging starts) gets the sound of the kept group of pictures it starts on, not only what follows.
 */
export class RecentSound {
  private readonly units: AudioUnit[] = [];
  private readonly unsubscribe: () => void;

  constructor(source: Pick<WsAudioSource, 'subscribe'>) {
    this.unsubscribe = source.subscribe((unit) => {
      this.units.push(unit);
      while (this.units.length > MAX_KEPT_FRAMES || unit.dts - this.units[0]!.dts > RECENT_SOUND_MS) this.units.shift();
    });
  }

  get frames(): readonly AudioUnit[] {
    return this.units;
  }

  close(): void {
    this.unsubscribe();
    this.units.length = 0;
  }
}

/** An AAC track with its AudioSpecificConfig, as init segments and decoders need it. */
export type SoundTrack = AudioTrack & { readonly config: Buffer };

/** With no sound for this long, a newcomer gets video only: MSE stalls on a track that gets no data. */
const STALE_SOUND_MS = 3000;
/** Audio frames kept for the current group of pictures (about 5 s of AAC at 48 kHz); older ones are let go. */
const MAX_KEPT_FRAMES = 250;
/** AAC frames are 1024 samples. */
const AAC_FRAME_SAMPLES = 1024;

/**
 * A stream's sound for its WebSocket viewers: the camera's AAC frames put in time order between the video frames
 * (the encoder's video comes out later than the camera's sound), kept from the last keyframe on for a viewer that
 * starts there, and packaged once per frame and mode.
 */
export class WsSound {
  /** Frames sent since the last video keyframe, oldest first. */
  kept: AudioUnit[] = [];
  private lastInAt = -Infinity;
  private readonly interleaver: AudioInterleaver;
  private unsubscribe: (() => void) | undefined;

  constructor(
    private readonly source: WsAudioSource,
    emit: (unit: AudioUnit) => void,
  ) {
    this.interleaver = new AudioInterleaver(emit);
    for (const unit of source.recent()) this.interleaver.audio(unit);
    this.unsubscribe = source.subscribe((unit) => {
      this.lastInAt = performance.now();
      this.interleaver.audio(unit);
    });
  }

  /** The sound a viewer starting now gets: the camera's AAC track while it sounds; undefined when silent. */
  get present(): SoundTrack | undefined {
    const track = this.source.track;
    if (track?.codec !== 'aac' || !track.config) return undefined;
    const sounding = this.lastInAt === -Infinity ? this.source.cameraHasSound() : performance.now() - this.lastInAt < STALE_SOUND_MS;
    return sounding ? (track as SoundTrack) : undefined;
  }

  /** Before a video frame at camera time `dts` goes out: lets out the sound that comes before it. */
  video(dts: number, keyframe: boolean): void {
    this.interleaver.video(dts);
    if (keyframe) this.kept = [];
  }

  keep(unit: AudioUnit): void {
    this.kept.push(unit);
    if (this.kept.length > MAX_KEPT_FRAMES) this.kept.shift();
  }

  close(): void {
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    this.interleaver.clear();
  }
}

/** One AAC frame as a raw-mode message; `timeMs` on the stream's timeline (the video's zero). */
export function rawAudioMessage(unit: AudioUnit, timeMs: number): Buffer {
  return binaryFrame(rawAudioUnit(unit.data, timeMs * 1000));
}

/** One AAC frame as an fMP4 fragment of the audio track (its timescale is its sampling rate). */
export function fmp4AudioMessage(sequence: number, unit: AudioUnit, timeMs: number): Buffer {
  const rate = unit.track.sampleRate;
  return binaryFrame(audioFragment(sequence, [{ data: unit.data, dts: Math.round((timeMs * rate) / 1000), duration: AAC_FRAME_SAMPLES }]));
}
