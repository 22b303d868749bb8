import { h264FmtpParameters, packetizeH264 } from '../../media/rtp/h264-packetizer.ts';
import { withParameterSets } from '../../media/h264/params.ts';
import { packetizeJpeg, parseJpegForRtp, type JpegSkipReason } from '../../media/rtp/jpeg-packetizer.ts';
import type { JpegFrame } from '../../adapters/types.ts';
import type { EncodedVideoFrame, EncodedVideoSource } from '../../media/types.ts';
import type { RtpEmit, RtpPayloader } from './rtp-stream.ts';

const H264_PAYLOAD_TYPE = 96;
/** RFC 3551's static payload type for JPEG. */
const JPEG_PAYLOAD_TYPE = 26;

/** An encoder's H.264 as RTP: every keyframe carries SPS and PPS in band, so a reader can start at any keyframe. */
export function h264RtpPayloader(video: EncodedVideoSource): RtpPayloader {
  const emitFrame = (emit: RtpEmit, frame: EncodedVideoFrame): void => {
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
  subscribe(listener: (frame: JpegFrame) => void): () => void;
  readonly latestFrame: JpegFrame | undefined;
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
      const send = (frame: JpegFrame | undefined): void => {
        if (!frame) return;
        // Pacing keeps a frame when ~90% of an output interval has passed, so jitter does not halve the rate.
        if (frameRate > 0 && frame.timestamp - lastSentAt < 900 / frameRate) return;
        const image = parseJpegForRtp(frame.data);
        if ('skip' in image) return onSkip(image.skip);
        lastSentAt = frame.timestamp;
        emit(packetizeJpeg(image), true, frame.timestamp);
      };
      send(feed.latestFrame);
      return feed.subscribe(send);
    },
    acquire: () => feed.acquire(),
  };
}
