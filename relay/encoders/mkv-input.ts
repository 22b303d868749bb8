import type { Frame } from '../../adapters/types.ts';
import { nalType, NalType, toAvcc } from '../../media/h264/annexb.ts';
import { buildAvcC } from '../../media/h264/params.ts';
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
  static open(first: Frame, frameDurationMs?: number): MkvInput {
    if (first.codec !== 'h264') return new MkvInput(first.codec, first.timestamp, new MkvWriter({ codec: first.codec, frameDurationMs }));
    const sps = first.data.find((nal) => nalType(nal) === NalType.sps);
    const pps = first.data.find((nal) => nalType(nal) === NalType.pps);
    const codecPrivate = sps && pps ? buildAvcC(sps, pps) : undefined;
    return new MkvInput('h264', first.timestamp, new MkvWriter({ codec: 'h264', codecPrivate, frameDurationMs }));
  }

  header(): Buffer {
    return this.writer.header();
  }

  block(frame: Frame): Buffer {
    // Parameter sets stay in band too, so a camera that changes them mid-stream is still decodable. Matroska frames
    // H.264 as AVCC: the one place the NAL units are joined on their way to ffmpeg.
    const data = frame.codec === 'h264' ? toAvcc(frame.data.filter((nal) => nalType(nal) !== NalType.aud)) : frame.data;
    return this.writer.block(data, frame.timestamp - this.runStart, frame.keyframe);
  }
}
