import { aacTrack } from '../aac/config.ts';
import { ProtocolError } from '../errors.ts';
import type { AudioTrack, FrameUnit } from '../types.ts';
import { flvTag } from './mux.ts';
import { FlvTagType, type FlvTag } from './tags.ts';

/** FLV SoundFormat values (FLV spec E.4.2.1) the relay reads or writes. */
const SOUND_FORMAT_PCMA = 7;
const SOUND_FORMAT_PCMU = 8;
const SOUND_FORMAT_AAC = 10;
/** AAC audio tags always say 44 kHz, 16-bit, stereo: the real values are in the AudioSpecificConfig. */
const AAC_TAG_HEAD = (SOUND_FORMAT_AAC << 4) | 0x0f;
const AAC_SEQUENCE_HEADER = 0;
const AAC_RAW = 1;

function requireAac(track: AudioTrack): Buffer {
  if (track.codec !== 'aac' || !track.config) throw new ProtocolError(`FLV: cannot carry ${track.codec} audio without conversion to AAC`);
  return track.config;
}

/** The AAC sequence header tag (AACPacketType 0 with the AudioSpecificConfig), which a player needs before any audio frame. */
export function flvAacSequenceHeader(track: AudioTrack, timestampMs: number): Buffer {
  return flvTag(FlvTagType.audio, timestampMs, Buffer.concat([Buffer.from([AAC_TAG_HEAD, AAC_SEQUENCE_HEADER]), requireAac(track)]));
}

/** One raw AAC frame as an audio tag (AACPacketType 1); `timestampMs` is its time on the output's timeline. */
export function flvAacTag(unit: FrameUnit, timestampMs: number): Buffer {
  return flvTag(FlvTagType.audio, timestampMs, Buffer.concat([Buffer.from([AAC_TAG_HEAD, AAC_RAW]), unit.data]));
}

/** A unit of sound read from an FLV tag: its track is always an audio track. */
export type FlvAudioUnit = FrameUnit & { readonly track: AudioTrack };

/**
 * Turns FLV audio tags (ffmpeg's or an edge server's) into audio units: the AAC sequence header becomes the track, each
 * raw AAC tag a unit at the tag's time; G.711 tags are units of an 8 kHz track. Other sound formats are ignored.
 */
export class FlvAudioReader {
  track: AudioTrack | undefined;

  /** Returns the unit a tag carries, or undefined for sequence headers, video, metadata and unsupported formats. */
  read(tag: FlvTag): FlvAudioUnit | undefined {
    if (tag.type !== FlvTagType.audio) return undefined;
    const data = tag.bytes.subarray(11, tag.bytes.length - 4);
    if (data.length < 2) return undefined;
    const format = data[0]! >> 4;
    if (format === SOUND_FORMAT_AAC) {
      if (data[1] === AAC_SEQUENCE_HEADER) {
        const config = Buffer.from(data.subarray(2));
        if (!this.track?.config?.equals(config)) this.track = aacTrack(config);
        return undefined;
      }
      if (data[1] !== AAC_RAW || this.track?.codec !== 'aac' || data.length === 2) return undefined;
      return this.unit(this.track, data.subarray(2), tag.timestamp);
    }
    if (format === SOUND_FORMAT_PCMA || format === SOUND_FORMAT_PCMU) {
      const codec = format === SOUND_FORMAT_PCMA ? 'pcma' : 'pcmu';
      const channels = (data[0]! & 1) + 1;
      if (this.track?.codec !== codec || this.track.channels !== channels) this.track = { kind: 'audio', codec, clockRate: 8000, sampleRate: 8000, channels };
      return this.unit(this.track, data.subarray(1), tag.timestamp);
    }
    return undefined;
  }

  private unit(track: AudioTrack, data: Buffer, timestamp: number): FlvAudioUnit {
    return { track, data, pts: timestamp, dts: timestamp, keyframe: true };
  }
}

/**
 * The sound of an FLV stream whose picture must not fail on it (a file, an edge source): the first tag that cannot be
 * read leaves the sound out from then on, said once through `onLeftOut`.
 */
export class LenientFlvAudioReader {
  private readonly reader = new FlvAudioReader();
  /** Why the sound was left out, once a tag could not be read. */
  leftOut: string | undefined;

  /** `what` names the sound in the message: "the file's sound". */
  constructor(private readonly what: string, private readonly onLeftOut?: (reason: string) => void) {}

  read(tag: FlvTag): FlvAudioUnit | undefined {
    if (this.leftOut !== undefined || tag.type !== FlvTagType.audio) return undefined;
    try {
      return this.reader.read(tag);
    } catch (error) {
      this.leftOut = `${this.what} cannot be read: ${(error as Error).message}`;
      this.onLeftOut?.(this.leftOut);
      return undefined;
    }
  }
}
