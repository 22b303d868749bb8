import { toAvcc } from '../../media/h264/annexb.ts';
import { withParameterSets } from '../../media/h264/params.ts';
import { isH264Unit, type VideoUnit } from '../../media/types.ts';
import { MkvWriter, type MkvCodec } from '../../media/mkv-writer.ts';

/**
 * Camera frames as an encoder's Matroska input for one ffmpeg run: the codec is the first keyframe's, times are
 * relative to it (ffmpeg starts at 0), and `runStart` maps ffmpeg's output times back onto the camera's timeline.
 */
export class MkvInput {
  private constructor(
    readonly codec: MkvCodec,
    readonly runStart: number,
    private readonly writer: MkvWriter,
  ) {}

  /**
   * Opens an input from the run's first keyframe; H.264 takes its SPS and PPS for the track's codec private data.
   * `frameDurationMs` is the camera's frame interval, which ffmpeg takes as the track's frame rate.
   */
  static open(first: VideoUnit, frameDurationMs?: number): MkvInput {
    if (!isH264Unit(first)) return new MkvInput(first.track.codec as MkvCodec, first.pts, new MkvWriter({ codec: first.track.codec as MkvCodec, frameDurationMs }));
    return new MkvInput('h264', first.pts, new MkvWriter({ codec: 'h264', codecPrivate: first.track.avcC, frameDurationMs }));
  }

  header(): Buffer {
    return this.writer.header();
  }

  block(frame: VideoUnit): Buffer {
    // Parameter sets go in band in front of keyframes too, so a camera that changes them mid-stream is still
    // decodable. Matroska frames H.264 as AVCC: the one place the NAL units are joined on their way to ffmpeg.
    const data = isH264Unit(frame) ? toAvcc(withParameterSets(frame)) : frame.data;
    return this.writer.block(data, frame.pts - this.runStart, frame.keyframe);
  }
}
