import type { Frame } from '../../adapters/types.ts';
import { nalType, NalType, splitAnnexB, toAvcc } from '../../media/h264/annexb.ts';
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
    const nalus = splitAnnexB(first.data);
    const sps = nalus.find((nal) => nalType(nal) === NalType.sps);
    const pps = nalus.find((nal) => nalType(nal) === NalType.pps);
    const codecPrivate = sps && pps ? buildAvcC(sps, pps) : undefined;
    return new MkvInput('h264', first.timestamp, new MkvWriter({ codec: 'h264', codecPrivate, frameDurationMs }));
  }

  header(): Buffer {
    return this.writer.header();
  }

  block(frame: Frame): Buffer {
    // Parameter sets stay in band too, so a camera that changes them mid-stream is still decodable.
    const data = frame.codec === 'h264' ? toAvcc(splitAnnexB(frame.data).filter((nal) => nalType(nal) !== NalType.aud)) : frame.data;
    return this.writer.block(data, frame.timestamp - this.runStart, frame.keyframe);
  }
}
