import type { AudioTrack, FrameUnit, VideoUnit } from '../media/types.ts';

/**
 * One audio frame (an AAC access unit, a packet's worth of G.711 samples, an Opus packet) as an adapter yields it:
 * `pts` and `dts` are milliseconds on the same source clock as the camera's video units', so the Feed
 * puts both on one timeline.
 */
export type AudioUnit = FrameUnit & { readonly track: AudioTrack };

/** What an adapter needs from the Feed that runs it: a narrow interface so tests can fake it in a line. */
export interface AdapterSink {
  /** Aborted when the Feed stops the adapter; run() must then resolve promptly. */
  readonly signal: AbortSignal;
  /**
   * One picture: `pts`/`dts` in milliseconds on the source's own monotonic clock (RTP timestamps for RTP sources, the
   * camera's clock where it has one, arrival time only where nothing better exists). H.264 comes with its track.
   */
  onFrame(unit: VideoUnit): void;
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
