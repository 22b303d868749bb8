import { spsPictureSize } from '../../media/h264/params.ts';
import { H264Depacketizer } from '../../media/rtp/h264-depacketizer.ts';
import { JpegDepacketizer } from '../../media/rtp/jpeg-depacketizer.ts';
import type { RtpPacket } from '../../media/rtp/rtp.ts';
import { ProtocolError } from '../../media/errors.ts';
import { AacHbrDepacketizer } from '../../media/rtp/aac-depacketizer.ts';
import type { AudioDepacketizer, RtpAudioUnit } from '../../media/rtp/audio-depacketizer.ts';
import { G711_PAYLOAD_TYPE, g711Depacketizer, g711Track } from '../../media/rtp/g711.ts';
import { isWellFormedOpusPacket, opusDepacketizer, opusTrack } from '../../media/rtp/opus.ts';
import { nalType, NalType, type H264UnitBuilder } from '../../media/h264/units.ts';
import { JPEG_TRACK, VP8_TRACK, type VideoUnit } from '../../media/types.ts';
import { parseVp8Descriptor, Vp8Depacketizer, vp8KeyframeSize } from '../../media/rtp/vp8-depacketizer.ts';

/** The payloads a publisher may send. */
export type PushCodec = 'vp8' | 'h264' | 'jpeg';
/** Every codec a publisher may announce in start_stream. */
export const PUSH_CODECS: readonly PushCodec[] = ['vp8', 'h264', 'jpeg'];

/** RTP/JPEG has a static payload type (RFC 3551); VP8 and H.264 use dynamic ones, so the publisher names its codec. */
export const JPEG_PAYLOAD_TYPE = 26;
const FIRST_DYNAMIC_PAYLOAD_TYPE = 96;

/** Which codec a payload type carries, given the codec the publisher announced; undefined: not a video type we take. */
export function codecForPayloadType(payloadType: number, announced: PushCodec): PushCodec | undefined {
  if (payloadType === JPEG_PAYLOAD_TYPE) return 'jpeg';
  if (payloadType >= FIRST_DYNAMIC_PAYLOAD_TYPE && announced !== 'jpeg') return announced;
  return undefined;
}

/** A frame without its timestamp in milliseconds yet: one buffer, or an H.264 access unit's NAL units. */
export interface DepacketizedFrame {
  readonly data: Buffer | readonly Buffer[];
  readonly keyframe: boolean;
  readonly rtpTimestamp: number;
}

/** A depacketized frame as a unit at `time` (ms); H.264 gets its track from `h264`, undefined where that drops it. */
export function pushedUnit(codec: PushCodec, frame: DepacketizedFrame, time: number, h264: H264UnitBuilder): VideoUnit | undefined {
  const { data, keyframe } = frame;
  if (!Buffer.isBuffer(data)) return h264.unit(data, time, time, keyframe);
  return { track: codec === 'vp8' ? VP8_TRACK : JPEG_TRACK, data, keyframe, pts: time, dts: time };
}

/** The depacketizer of one codec behind one shape, so a push session does not care which it runs. */
export interface PushDepacketizer {
  push(packet: RtpPacket): DepacketizedFrame[];
  /** False for a packet whose payload header is unreadable: the session drops it and counts it as malformed. */
  accepts(packet: RtpPacket): boolean;
  markLoss(): void;
  /** Frames dropped for loss or damage, including intact ones skipped while waiting for a keyframe. */
  readonly droppedFrames: number;
}

/**
 * Whether an RTP/JPEG payload has the 8-byte main header with a type the depacketizer rebuilds (RFC 2435 types 0/1 and
 * 64/65); a packet with another type is one bad packet, not a reason to end the stream.
 */
function readableJpegHeader(payload: Buffer): boolean {
  if (payload.length < 8) return false;
  const type = payload[4]!;
  return type <= 127 && (type & 0x3f) <= 1;
}

/** Builds the depacketizer for a codec; each throws AdapterError('PROTOCOL') past maxFrameBytes. */
export function createDepacketizer(codec: PushCodec, maxFrameBytes: number): PushDepacketizer {
  if (codec === 'vp8') {
    const vp8 = new Vp8Depacketizer(maxFrameBytes);
    return {
      push: (packet) => vp8.push(packet),
      accepts: (packet) => parseVp8Descriptor(packet.payload) !== undefined,
      markLoss: () => vp8.markLoss(),
      get droppedFrames() {
        return vp8.droppedFrames + vp8.skippedFrames;
      },
    };
  }
  if (codec === 'h264') {
    const h264 = new H264Depacketizer(maxFrameBytes);
    return {
      push: (packet) => h264.push(packet),
      accepts: (packet) => packet.payload.length > 0,
      markLoss: () => h264.markLoss(),
      get droppedFrames() {
        return h264.droppedUnits + h264.skippedUnits;
      },
    };
  }
  const jpeg = new JpegDepacketizer(maxFrameBytes);
  return {
    push: (packet) => jpeg.push(packet).map((image) => ({ data: image.data, keyframe: true, rtpTimestamp: image.rtpTimestamp })),
    accepts: (packet) => readableJpegHeader(packet.payload),
    markLoss: () => jpeg.markLoss(),
    get droppedFrames() {
      return jpeg.droppedImages;
    },
  };
}

/**
 * Whether a keyframe can start a decoder: a VP8 keyframe header with a size, an H.264 access unit whose SPS gives a
 * picture size, a JPEG with its start-of-image marker. The stream goes to viewers from the first such frame on.
 */
export function isDecodableKeyframe(codec: PushCodec, frame: DepacketizedFrame): boolean {
  if (!frame.keyframe) return false;
  const data = frame.data;
  if (!Buffer.isBuffer(data)) return codec === 'h264' && decodableSps(data.find((nal) => nalType(nal) === NalType.sps));
  if (codec === 'vp8') return vp8KeyframeSize(data) !== undefined;
  return codec === 'jpeg' && data.length > 4 && data[0] === 0xff && data[1] === 0xd8;
}

/** True for an SPS that gives a picture size. */
function decodableSps(sps: Buffer | undefined): boolean {
  if (!sps) return false;
  try {
    const size = spsPictureSize(sps);
    return size.width > 0 && size.height > 0;
  } catch {
    return false;
  }
}


/** The sound a publisher may send beside its picture, as start_stream's `audio` names it. */
export type PushAudioCodec = 'opus' | 'pcma' | 'pcmu' | 'aac';
/** Every audio codec a publisher may announce in start_stream. */
export const PUSH_AUDIO_CODECS: readonly PushAudioCodec[] = ['opus', 'pcma', 'pcmu', 'aac'];

/**
 * The audio depacketizer of an announced codec, which also says the track: Opus/48000/2 (RFC 7587), PCMA or PCMU at
 * 8000 Hz mono, AAC mpeg4-generic with the publisher's AudioSpecificConfig (`config`, needed for AAC only). Throws a
 * ProtocolError for an AAC config that is missing or cannot be read.
 */
export function createAudioDepacketizer(codec: PushAudioCodec, config?: Buffer): AudioDepacketizer {
  if (codec === 'opus') return opusDepacketizer(opusTrack(2));
  if (codec === 'pcma' || codec === 'pcmu') return g711Depacketizer(g711Track(codec));
  if (!config) throw new ProtocolError('AAC audio needs its AudioSpecificConfig (audio_config, hex)');
  return new AacHbrDepacketizer(config); // AAC-hbr (sizelength 13), as GStreamer's rtpmp4gpay and ffmpeg send it
}

/** Whether an audio packet's payload type is the announced codec's: G.711's static type (RFC 3551), else a dynamic one. */
export function isAudioPayloadType(payloadType: number, codec: PushAudioCodec): boolean {
  if (codec === 'pcma' || codec === 'pcmu') return payloadType === G711_PAYLOAD_TYPE[codec];
  return payloadType >= FIRST_DYNAMIC_PAYLOAD_TYPE && payloadType <= 127;
}

/**
 * Whether an audio unit can start a decoder of the announced codec, so that FollowSSRC may take its SSRC as the sound's:
 * an Opus packet framed as RFC 6716 requires, an AAC frame its AU headers delimited, any G.711 samples.
 */
export function isDecodableAudio(codec: PushAudioCodec, unit: RtpAudioUnit): boolean {
  if (codec === 'opus') return isWellFormedOpusPacket(unit.data);
  return unit.data.length > 0;
}
