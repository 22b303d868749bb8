/** A frame as an adapter yields it; `timestamp` is in milliseconds on the adapter's own monotonic clock. */
export type Frame = JpegFrame | H264Frame;

/** One complete JPEG image (SOI..EOI); every JPEG is a keyframe. */
export interface JpegFrame {
  readonly codec: 'jpeg';
  readonly data: Buffer;
  readonly timestamp: number;
  readonly keyframe: true;
}

/** One H.264 access unit in Annex B form (start codes); keyframes carry SPS and PPS in front of the IDR slice. */
export interface H264Frame {
  readonly codec: 'h264';
  readonly data: Buffer;
  readonly timestamp: number;
  readonly keyframe: boolean;
}

/** What an adapter needs from the Feed that runs it: a narrow interface so tests can fake it in a line. */
export interface AdapterSink {
  /** Aborted when the Feed stops the adapter; run() must then resolve promptly. */
  readonly signal: AbortSignal;
  onFrame(frame: Frame): void;
  /** Called once the upstream answered and frames are about to flow (for state and "connected since"). */
  onConnected(): void;
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
