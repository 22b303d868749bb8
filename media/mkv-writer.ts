import { ProtocolError } from './errors.ts';
import type { AudioTrack } from './types.ts';

/**
 * A minimal live Matroska writer for ffmpeg's stdin: a video track and/or an audio track, clusters of unknown size,
 * one SimpleBlock per frame with its timestamp. It lets an encoder or audio converter receive the source's timing with
 * the frames, which raw JPEG, H.264, VP8, AAC or G.711 on a pipe cannot carry.
 */

export type MkvCodec = 'jpeg' | 'h264' | 'vp8';

const CODEC_ID: Record<MkvCodec, string> = { jpeg: 'V_MJPEG', h264: 'V_MPEG4/ISO/AVC', vp8: 'V_VP8' };
/** Matroska audio codec IDs; G.711 goes as A_MS/ACM with a WAVEFORMATEX, which is how ffmpeg reads it from Matroska. */
const AUDIO_CODEC_ID: Record<AudioTrack['codec'], string> = { aac: 'A_AAC', opus: 'A_OPUS', pcma: 'A_MS/ACM', pcmu: 'A_MS/ACM' };
/** WAVE format tags of G.711. */
const WAVE_FORMAT_TAG = { pcma: 0x0006, pcmu: 0x0007 } as const;
const OPUS_PRE_SKIP = 312;
const UNKNOWN_SIZE = Buffer.from([0x01, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);
/** SimpleBlock times are 16-bit signed offsets from the cluster's time. */
const MAX_BLOCK_OFFSET_MS = 30_000;

function sizeVint(size: number): Buffer {
  const out = Buffer.alloc(8);
  out[0] = 0x01;
  out.writeUIntBE(Math.floor(size / 2 ** 24), 1, 3);
  out.writeUIntBE(size % 2 ** 24, 4, 4);
  return out;
}

function element(id: number, data: Buffer): Buffer {
  const idBytes = Buffer.alloc(4);
  idBytes.writeUInt32BE(id);
  const start = idBytes.findIndex((byte) => byte !== 0);
  return Buffer.concat([idBytes.subarray(start), sizeVint(data.length), data]);
}

function uint(id: number, value: number): Buffer {
  const data = Buffer.alloc(8);
  data.writeBigUInt64BE(BigInt(Math.max(0, Math.round(value))));
  const start = Math.min(7, data.findIndex((byte) => byte !== 0) === -1 ? 7 : data.findIndex((byte) => byte !== 0));
  return element(id, data.subarray(start));
}

function float(id: number, value: number): Buffer {
  const data = Buffer.alloc(8);
  data.writeDoubleBE(value);
  return element(id, data);
}

function text(id: number, value: string): Buffer {
  return element(id, Buffer.from(value, 'latin1'));
}

function unknownSize(id: number): Buffer {
  const idBytes = Buffer.alloc(4);
  idBytes.writeUInt32BE(id);
  return Buffer.concat([idBytes, UNKNOWN_SIZE]);
}

export interface MkvTrackOptions {
  readonly codec: MkvCodec;
  /** H.264 only: the AVCDecoderConfigurationRecord. */
  readonly codecPrivate?: Buffer;
  readonly width?: number;
  readonly height?: number;
  /** The nominal time between frames, ms (Matroska DefaultDuration): what ffmpeg takes as the track's frame rate. */
  readonly frameDurationMs?: number;
}

/** The CodecPrivate of an audio track: AAC's AudioSpecificConfig, Opus's OpusHead, G.711's WAVEFORMATEX. */
function audioCodecPrivate(track: AudioTrack): Buffer {
  if (track.codec === 'aac') {
    if (!track.config) throw new ProtocolError('Matroska: an AAC track without its AudioSpecificConfig');
    return track.config;
  }
  if (track.codec === 'opus') {
    const head = Buffer.alloc(19);
    head.write('OpusHead', 0, 'latin1');
    head[8] = 1;
    head[9] = track.channels;
    head.writeUInt16LE(OPUS_PRE_SKIP, 10);
    head.writeUInt32LE(track.sampleRate, 12);
    return head;
  }
  const format = Buffer.alloc(18);
  format.writeUInt16LE(WAVE_FORMAT_TAG[track.codec], 0);
  format.writeUInt16LE(track.channels, 2);
  format.writeUInt32LE(track.sampleRate, 4);
  format.writeUInt32LE(track.sampleRate * track.channels, 8);
  format.writeUInt16LE(track.channels, 12);
  format.writeUInt16LE(8, 14);
  return format;
}

/** The TrackEntry of an audio track with number `number`. */
function audioTrackEntry(track: AudioTrack, number: number): Buffer {
  const audio = [float(0xb5, track.sampleRate), uint(0x9f, track.channels)];
  if (track.codec === 'pcma' || track.codec === 'pcmu') audio.push(uint(0x6264, 8));
  return element(0xae, Buffer.concat([uint(0xd7, number), uint(0x73c5, number), uint(0x83, 2), text(0x86, AUDIO_CODEC_ID[track.codec]),
    element(0x63a2, audioCodecPrivate(track)), element(0xe1, Buffer.concat(audio))]));
}

/**
 * Writes the EBML header, segment info and the tracks; then `block()` for each video frame and `audioBlock()` for each
 * audio frame. The video track (when there is one) is track 1 and the audio track follows it. Timestamps in ms.
 */
export class MkvWriter {
  private clusterTime: number | undefined;
  private readonly audioNumber: number;

  /** `track` undefined makes an audio-only file (an audio converter's input); `audio` adds an audio track. */
  constructor(private readonly track: MkvTrackOptions | undefined, private readonly audio?: AudioTrack) {
    if (!track && !audio) throw new Error('a Matroska file needs a track');
    if (audio) audioCodecPrivate(audio); // refuses an AAC track without its config here, not at the first frame
    this.audioNumber = track ? 2 : 1;
  }

  header(): Buffer {
    const ebml = element(0x1a45dfa3, Buffer.concat([
      uint(0x4286, 1), uint(0x42f7, 1), uint(0x42f2, 4), uint(0x42f3, 8),
      text(0x4282, 'matroska'), uint(0x4287, 4), uint(0x4285, 2),
    ]));
    const info = element(0x1549a966, Buffer.concat([uint(0x2ad7b1, 1_000_000), text(0x4d80, 'relay'), text(0x5741, 'relay')]));
    const entries: Buffer[] = [];
    if (this.track) entries.push(videoTrackEntry(this.track));
    if (this.audio) entries.push(audioTrackEntry(this.audio, this.audioNumber));
    const tracks = element(0x1654ae6b, Buffer.concat(entries));
    return Buffer.concat([ebml, unknownSize(0x18538067), info, tracks]);
  }

  /** One video frame; opens a new cluster at keyframes and when the offset would overflow. */
  block(data: Buffer, timestampMs: number, keyframe: boolean): Buffer {
    return this.simpleBlock(1, data, timestampMs, keyframe, keyframe);
  }

  /** One audio frame (every one stands alone); opens a new cluster only when the offset would overflow or go back. */
  audioBlock(data: Buffer, timestampMs: number): Buffer {
    if (!this.audio) throw new Error('this Matroska writer has no audio track');
    return this.simpleBlock(this.audioNumber, data, timestampMs, true, false);
  }

  private simpleBlock(trackNumber: number, data: Buffer, timestampMs: number, keyframe: boolean, newCluster: boolean): Buffer {
    const time = Math.max(0, Math.round(timestampMs));
    const parts: Buffer[] = [];
    if (this.clusterTime === undefined || newCluster || time - this.clusterTime > MAX_BLOCK_OFFSET_MS || time < this.clusterTime) {
      this.clusterTime = time;
      parts.push(unknownSize(0x1f43b675), uint(0xe7, time));
    }
    const head = Buffer.alloc(4);
    head[0] = 0x80 | trackNumber; // the track number as a one-byte vint
    head.writeInt16BE(time - this.clusterTime, 1);
    head[3] = keyframe ? 0x80 : 0x00;
    parts.push(element(0xa3, Buffer.concat([head, data])));
    return Buffer.concat(parts);
  }
}

function videoTrackEntry(track: MkvTrackOptions): Buffer {
  const video: Buffer[] = [];
  if (track.width) video.push(uint(0xb0, track.width));
  if (track.height) video.push(uint(0xba, track.height));
  const entry = [uint(0xd7, 1), uint(0x73c5, 1), uint(0x83, 1), text(0x86, CODEC_ID[track.codec])];
  if (track.frameDurationMs) entry.push(uint(0x23e383, track.frameDurationMs * 1_000_000));
  if (track.codecPrivate) entry.push(element(0x63a2, track.codecPrivate));
  if (video.length > 0) entry.push(element(0xe0, Buffer.concat(video)));
  return element(0xae, Buffer.concat(entry));
}
