/**
 * The relay's one media model, from the depacketizer to every packager: a `Track` says what a stream carries (kind,
 * codec, codec parameters), a `Unit` is one access unit of it with its times. H.264 units are lists of NAL units, never
 * Annex B or AVCC bytes: each container (FLV, MP4, MPEG-TS, Matroska, RTP) frames them once, as it needs them.
 */

export type VideoCodec = 'h264' | 'h265' | 'jpeg' | 'vp8';
export type AudioCodec = 'aac' | 'opus' | 'pcma' | 'pcmu';

/** The codec parameters of one H.264 stream run. A new object marks a discontinuity (encoder restart, new SPS/PPS). */
export interface H264Track {
  readonly kind: 'video';
  readonly codec: 'h264';
  /** Ticks per second of the source's media clock (90 kHz for RTP video). */
  readonly clockRate: number;
  /** Sequence and picture parameter sets, NAL units without start codes or length prefixes. */
  readonly sps: Buffer;
  readonly pps: Buffer;
  readonly width: number;
  readonly height: number;
  /** RFC 6381 codec string, e.g. `avc1.64001f`. */
  readonly codecString: string;
  /** The AVCDecoderConfigurationRecord (`avcC`), as FLV and MP4 carry it. */
  readonly avcC: Buffer;
  /** Why the SPS could not be read (width and height are then 0), for the operator; absent when it was read. */
  readonly spsProblem?: string;
}

/** A video stream whose frames stand alone as one buffer each (JPEG images, VP8 frames). */
export interface FrameVideoTrack {
  readonly kind: 'video';
  readonly codec: Exclude<VideoCodec, 'h264'>;
  readonly clockRate: number;
}

/** An audio stream: AAC, Opus or G.711 frames, one per unit. */
export interface AudioTrack {
  readonly kind: 'audio';
  readonly codec: AudioCodec;
  /** Ticks per second of the source's media clock (the sampling rate for AAC and G.711, 48 kHz for Opus over RTP). */
  readonly clockRate: number;
  readonly sampleRate: number;
  readonly channels: number;
  /** AAC only: the AudioSpecificConfig (ISO/IEC 14496-3), as FLV, MP4 esds and Matroska CodecPrivate carry it. */
  readonly config?: Buffer;
}

export type Track = H264Track | FrameVideoTrack | AudioTrack;

/** Times of a unit in milliseconds on the source's timeline; they only increase, across restarts too. */
interface UnitTimes {
  readonly pts: number;
  readonly dts: number;
  readonly keyframe: boolean;
}

/** One H.264 access unit: NAL units without start codes or length prefixes (no SPS/PPS/AUD: those are in `track`). */
export interface H264Unit extends UnitTimes {
  readonly track: H264Track;
  readonly data: readonly Buffer[];
}

/** One JPEG image, VP8 frame or audio frame: one buffer. */
export interface FrameUnit extends UnitTimes {
  readonly track: FrameVideoTrack | AudioTrack;
  readonly data: Buffer;
}

export type Unit = H264Unit | FrameUnit;

/** One JPEG image or VP8 frame: a video unit that stands alone as one buffer. */
export interface FrameVideoUnit extends FrameUnit {
  readonly track: FrameVideoTrack;
}

/** One complete JPEG image (SOI..EOI); every JPEG is a keyframe. */
export interface JpegUnit extends FrameVideoUnit {
  readonly track: FrameVideoTrack & { readonly codec: 'jpeg' };
}

/** A camera's picture as a source yields it and the Feed hands it on: H.264 NAL units, or a JPEG image or VP8 frame. */
export type VideoUnit = H264Unit | FrameVideoUnit;

/** The one JPEG track: JPEG images carry their own parameters, so every JPEG source shares it. */
export const JPEG_TRACK: JpegUnit['track'] = Object.freeze({ kind: 'video', codec: 'jpeg', clockRate: 90_000 });

/** The one VP8 track: a VP8 keyframe carries its own picture size. */
export const VP8_TRACK: FrameVideoTrack = Object.freeze({ kind: 'video', codec: 'vp8', clockRate: 90_000 });

/** A JPEG image as a unit at `time` (ms). */
export function jpegUnit(data: Buffer, time: number): JpegUnit {
  return { track: JPEG_TRACK, data, pts: time, dts: time, keyframe: true };
}

/** True for a JPEG unit. */
export function isJpegUnit(unit: Unit): unit is JpegUnit {
  return unit.track.codec === 'jpeg';
}

/** True for an H.264 unit (TypeScript does not narrow a union on its track's codec by itself). */
export function isH264Unit(unit: Unit): unit is H264Unit {
  return unit.track.codec === 'h264';
}

/** Bytes of a unit's payload. */
export function unitBytes(unit: Unit): number {
  return isH264Unit(unit) ? unit.data.reduce((sum, nal) => sum + nal.length, 0) : unit.data.length;
}

export type H264Listener = (unit: H264Unit) => void;

/**
 * H.264 units for packagers: an encoder's output, or with `VideoCodec copy` the camera's own units as its Feed keeps
 * them, shared by every packager and consumer of the streams that use it. Consumers never pause it: a slow one drops
 * frames on its own side.
 */
export interface H264Source {
  /** For logs and /stat.json: which encoder this is. */
  readonly id: string;
  /** The current track, once the first keyframe came out; undefined while starting. */
  readonly track: H264Track | undefined;
  /** Units from the last keyframe on (bounded), so a consumer that joins starts on a keyframe at once. */
  readonly groupOfPictures: readonly H264Unit[];
  subscribe(listener: H264Listener): () => void;
  /** Holds the camera and the encoder running while the release function is not called (safe to call twice). */
  acquire(): () => void;
}
