import type { CameraConfig } from '../../conf/types.ts';
import type { EncoderSettings } from '../encoders/ffmpeg-args.ts';
import type { H264Source } from '../../media/types.ts';
import type { RecordedAudio } from './recorder.ts';

/** What the recorder takes from the running relay: a camera's shared encoder, held by name until released. */
export interface EncoderSupply {
  encoderFor(camera: string, settings: EncoderSettings, user: string): H264Source;
  /** Drops `user` from every encoder it holds but `keep`. */
  releaseEncoder(user: string, keep?: H264Source): Promise<void>;
  /** The camera's sound as AAC, held by `user` until releaseEncoder(user); absent where the relay has none. */
  audioFor?(camera: string, user: string): RecordedAudio;
}

/** The camera's encoded video at its recording settings, and how to let go of it. */
export interface RecordingVideo {
  readonly video: H264Source;
  readonly audio: RecordedAudio | undefined;
  /** Lets go of the encoder; `keep` (the video of the recorder that replaces this one) stays held. */
  close(keep?: H264Source): Promise<void>;
}

/**
 * The encoder settings of a camera's Record* directives. Keyframes every 2 s as FLV streams have them, so a live
 * FLV stream at the same size, rate and bit rate shares its encoder with the recorder.
 */
export function recordingEncoderSettings(camera: CameraConfig): EncoderSettings {
  const { record } = camera;
  if (record.codec === 'copy') {
    return { codec: 'copy', size: undefined, frameRate: 0, bitRateKbps: 0, qMin: undefined, qMax: undefined, gopSize: 0, keyframeSeconds: 0 };
  }
  return {
    codec: 'libx264', size: record.size, frameRate: record.frameRate, bitRateKbps: record.bitRate,
    qMin: undefined, qMax: undefined, gopSize: 0, keyframeSeconds: 2,
  };
}

/**
 * The one place the recorder gets a camera's encoded H.264: the camera's shared encoder at the Record* settings
 * (the same one a live stream with those settings uses), fed by the camera's Feed, so no second camera connection.
 */
export function recordingVideo(relay: EncoderSupply, camera: CameraConfig): RecordingVideo {
  const user = `record:${camera.name}`;
  const video = relay.encoderFor(camera.name, recordingEncoderSettings(camera), user);
  // Its own user name: a recorder replacing this one over a reload takes the same sound part before this lets go.
  const audioUser = `record-audio:${camera.name}`;
  const audio = relay.audioFor?.(camera.name, audioUser);
  return {
    video,
    audio,
    close: async (keep) => {
      await relay.releaseEncoder(user, keep);
      if (!keep) await relay.releaseEncoder(audioUser);
    },
  };
}
