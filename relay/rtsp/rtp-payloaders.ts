import { h264FmtpParameters, packetizeH264 } from '../../media/rtp/h264-packetizer.ts';
import { withParameterSets } from '../../media/h264/params.ts';
import { packetizeJpeg, parseJpegForRtp, type JpegSkipReason } from '../../media/rtp/jpeg-packetizer.ts';
import type { H264Unit, H264Source, JpegUnit } from '../../media/types.ts';
import type { RtpEmit, RtpPayloader } from './rtp-stream.ts';
import { packetizeAacHbr } from '../../media/rtp/aac-packetizer.ts';
import { audioMediaLines } from '../../media/rtsp/sdp-audio.ts';
import type { AudioUnit } from '../../adapters/types.ts';
import type { AudioTrack } from '../../media/types.ts';

const H264_PAYLOAD_TYPE = 96;
/** RFC 3551's static payload type for JPEG. */
const JPEG_PAYLOAD_TYPE = 26;
const AAC_PAYLOAD_TYPE = 97;
/** The control URL of a stream's sound, relative to the Content-Base. */
export const AUDIO_TRACK = 'trackID=1';

/** An encoder's H.264 as RTP: every keyframe carries SPS and PPS in band, so a reader can start at any keyframe. */
export function h264RtpPayloader(video: H264Source): RtpPayloader {
  const emitFrame = (emit: RtpEmit, frame: H264Unit): void => {
    emit(packetizeH264(withParameterSets(frame)), frame.keyframe, frame.pts);
  };
  return {
    codec: 'h264',
    payloadType: H264_PAYLOAD_TYPE,
    get ready() {
      return video.track !== undefined;
    },
    mediaLines() {
      const track = video.track;
      const lines = [`m=video 0 RTP/AVP ${H264_PAYLOAD_TYPE}`, `a=rtpmap:${H264_PAYLOAD_TYPE} H264/90000`];
      if (track) {
        lines.push(`a=fmtp:${H264_PAYLOAD_TYPE} ${h264FmtpParameters(track.sps, track.pps)}`);
        lines.push(`a=framesize:${H264_PAYLOAD_TYPE} ${track.width}-${track.height}`);
      }
      return [...lines, 'a=control:trackID=0'];
    },
    start(emit) {
      for (const frame of video.groupOfPictures) emitFrame(emit, frame);
      return video.subscribe((frame) => emitFrame(emit, frame));
    },
    acquire: () => video.acquire(),
  };
}

/** What a JPEG stream needs of a camera's JPEG view: its frames, the newest one, and a hold on the camera. */
export interface JpegFeed {
  subscribe(listener: (frame: JpegUnit) => void): () => void;
  readonly latestFrame: JpegUnit | undefined;
  acquire(): () => void;
}

/** Counts the camera's JPEGs that RTP/JPEG cannot carry, by reason (for logs and /stat.json). */
export type JpegSkipCounter = (reason: JpegSkipReason) => void;

/**
 * A camera's JPEGs as RTP/JPEG, passed through without transcoding and paced to `frameRate` (0: every frame) like
 * the MJPEG output. JPEGs the format cannot carry are skipped and counted.
 */
export function jpegRtpPayloader(feed: JpegFeed, frameRate: number, onSkip: JpegSkipCounter): RtpPayloader {
  return {
    codec: 'jpeg',
    payloadType: JPEG_PAYLOAD_TYPE,
    ready: true,
    mediaLines: () => [`m=video 0 RTP/AVP ${JPEG_PAYLOAD_TYPE}`, `a=rtpmap:${JPEG_PAYLOAD_TYPE} JPEG/90000`, 'a=control:trackID=0'],
    start(emit) {
      let lastSentAt = -Infinity;
      const send = (frame: JpegUnit | undefined): void => {
        if (!frame) return;
        // Pacing keeps a frame when ~90% of an output interval has passed, so jitter does not halve the rate.
        if (frameRate > 0 && frame.pts - lastSentAt < 900 / frameRate) return;
        const image = parseJpegForRtp(frame.data);
        if ('skip' in image) return onSkip(image.skip);
        lastSentAt = frame.pts;
        emit(packetizeJpeg(image), true, frame.pts);
      };
      send(feed.latestFrame);
      return feed.subscribe(send);
    },
    acquire: () => feed.acquire(),
  };
}

/** What the sound track needs of a camera's AAC part: its track once known, and its frames. */
export interface AacFeed {
  readonly track: AudioTrack | undefined;
  subscribe(listener: (unit: AudioUnit) => void): () => void;
  /** True when the camera has sent sound (its AAC may still be on its way through a converter). */
  cameraHasSound(): boolean;
}

/**
 * A camera's AAC sound as RFC 3640 mpeg4-generic (AAC-hbr), timed on the camera timeline like the picture. Ready once
 * the first AAC frame has come (a camera without sound never is, and its SDP stays video only). The sample rate is
 * fixed by the first track: a later change of rate cannot be announced to a reader, so such frames are not sent.
 */
export function aacRtpPayloader(audio: AacFeed): RtpPayloader & { readonly track: AudioTrack | undefined } {
  let announced: AudioTrack | undefined;
  return {
    codec: 'aac',
    payloadType: AAC_PAYLOAD_TYPE,
    get clockRate() {
      return (announced ?? audio.track)?.sampleRate ?? 48_000;
    },
    get ready() {
      return audio.track?.config !== undefined;
    },
    get pending() {
      return audio.track === undefined && audio.cameraHasSound();
    },
    get track() {
      return announced ?? audio.track;
    },
    mediaLines() {
      announced ??= audio.track;
      return announced ? audioMediaLines(announced, AAC_PAYLOAD_TYPE, AUDIO_TRACK) : [];
    },
    start(emit) {
      return audio.subscribe((unit) => {
        const track = announced ?? unit.track;
        // An AU larger than AAC-hbr's size field is no AAC frame: skipped rather than thrown at the camera's part.
        if (!unit.track.config || unit.data.length === 0 || unit.data.length > 0x1fff || unit.track.sampleRate !== track.sampleRate || unit.track.channels !== track.channels) return;
        emit(packetizeAacHbr(unit.data), true, unit.pts);
      });
    },
    // The picture's track holds the camera; sound alone never starts it.
    acquire: () => () => {},
  };
}
