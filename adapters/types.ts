import type { AudioTrack, FrameUnit } from '../media/types.ts';

/**
 * A frame as an adapter yields it. `timestamp` is the presentation time in milliseconds on the source's own monotonic
 * clock: RTP timestamps for RTP sources, the camera's clock where it has one, arrival time only where nothing better exists.
 */
export type Frame = JpegFrame | H264Frame | Vp8Frame;

/** One complete JPEG image (SOI..EOI); every JPEG is a keyframe. */
export interface JpegFrame {
  readonly codec: 'jpeg';
  readonly data: Buffer;
  readonly timestamp: number;
  readonly keyframe: true;
}

/**
 * One H.264 access unit as its NAL units, without start codes, as the depacketizer or demuxer has them (no Annex B
 * in between); keyframes carry SPS and PPS in front of the IDR slice.
 */
export interface H264Frame {
  readonly codec: 'h264';
  readonly data: readonly Buffer[];
  readonly timestamp: number;
  readonly keyframe: boolean;
}

/** Bytes of a frame's payload (an H.264 frame's NAL units together). */
export function frameBytes(frame: Frame): number {
  return frame.codec === 'h264' ? frame.data.reduce((sum, nal) => sum + nal.length, 0) : frame.data.length;
}

/** One VP8 frame (RFC 6386), as a pushing source sends it; keyframes are decodable alone. */
export interface Vp8Frame {
  readonly codec: 'vp8';
  readonly data: Buffer;
  readonly timestamp: number;
  readonly keyframe: boolean;
}

/**
 * One audio frame (an AAC access unit, a packet's worth of G.711 samples, an Opus packet) as an adapter yields it:
 * `pts` and `dts` are milliseconds on the same source clock as the camera's video frames' `timestamp`, so the Feed
 * puts both on one timeline.
 */
export type AudioUnit = FrameUnit & { readonly track: AudioTrack };

/** What an adapter needs from the Feed that runs it: a narrow interface so tests can fake it in a line. */
export interface AdapterSink {
  /** Aborted when the Feed stops the adapter; run() must then resolve promptly. */
  readonly signal: AbortSignal;
  onFrame(frame: Frame): void;
  /** Audio of the same camera, on the video's clock; optional so a video-only sink (a probe, a test) needs none. */
  onAudio?(unit: AudioUnit): void;
  /** The sound the camera said it would send (an SDP's audio section), before any frame: shown while none comes. */
  onAudioAnnounced?(track: AudioTrack): void;
  /** The camera announced sound the adapter cannot take (a codec it does not read, a bad description): why. */
  onAudioLeftOut?(reason: string): void;
  /** Called once the upstream answered and frames are about to flow (for state and "connected since"). */
  onConnected(): void;
  /**
   * A push source calls this while it waits for an authorised publisher: the Feed shows "waiting for publisher",
   * which is not a failure, and the no-frames watchdog sleeps until onConnected().
   */
  onWaiting(): void;
  log(message: string): void;
}

/**
 * A camera protocol client. run() holds one upstream connection until it fails, then rejects with an AdapterError;
 * it resolves only when sink.signal is aborted. It never retries by itself: the Feed's supervisor does.
 */
export interface CameraAdapter {
  readonly kind: string;
  run(sink: AdapterSink): Promise<void>;
}
