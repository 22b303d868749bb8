/**
 * Encoded media as the relay's packagers and consumers see it: one H.264 elementary stream per encoder, cut into
 * access units with presentation times. FLV, HLS, LL-HLS, fMP4 recordings and RTP are all packaged from these.
 */

/** The codec parameters of one encoder run. A new object marks a discontinuity (encoder restart, new camera stream). */
export interface H264Track {
  readonly codec: 'h264';
  /** Sequence and picture parameter sets, NAL units without start codes or length prefixes. */
  readonly sps: Buffer;
  readonly pps: Buffer;
  readonly width: number;
  readonly height: number;
  /** RFC 6381 codec string, e.g. `avc1.64001f`. */
  readonly codecString: string;
  /** The AVCDecoderConfigurationRecord (`avcC`), as FLV and MP4 carry it. */
  readonly avcC: Buffer;
}

/** One H.264 access unit. */
export interface EncodedVideoFrame {
  readonly track: H264Track;
  /** NAL units without start codes or length prefixes (no SPS/PPS/AUD: those are in `track`). */
  readonly nalus: readonly Buffer[];
  /** Presentation and decode times in milliseconds on the source's timeline; they only increase, across restarts too. */
  readonly pts: number;
  readonly dts: number;
  readonly keyframe: boolean;
}

export type EncodedFrameListener = (frame: EncodedVideoFrame) => void;

/**
 * The output of one encoder (or of a camera's own H.264 with `VideoCodec copy`), shared by every packager and
 * consumer of the streams that use it. Consumers never pause it: a slow one drops frames on its own side.
 */
export interface EncodedVideoSource {
  /** For logs and /stat.json: which encoder this is. */
  readonly id: string;
  /** The current track, once the first keyframe came out; undefined while starting. */
  readonly track: H264Track | undefined;
  /** Frames from the last keyframe on (bounded), so a consumer that joins starts on a keyframe at once. */
  readonly groupOfPictures: readonly EncodedVideoFrame[];
  subscribe(listener: EncodedFrameListener): () => void;
  /** Holds the camera and the encoder running while the release function is not called (safe to call twice). */
  acquire(): () => void;
}
