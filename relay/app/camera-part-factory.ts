import { Passthrough } from '../encoders/passthrough.ts';
import { FfmpegEncoder } from '../encoders/ffmpeg-encoder.ts';
import { settingsKey } from '../encoders/ffmpeg-args.ts';
import type { FfmpegInfo } from '../encoders/ffmpeg-locate.ts';
import { JpegView } from '../encoders/jpeg-view.ts';
import { AacAudio } from '../encoders/aac-audio.ts';
import { OpusAudio } from '../encoders/opus-audio.ts';
import type { CameraPartFactory } from '../running/camera-parts.ts';

/** Builds a camera's encoders (ffmpeg per setting, or passthrough for `copy`) and its JPEG view with the located ffmpeg. */
export function cameraPartFactory(ffmpeg: FfmpegInfo): CameraPartFactory {
  return {
    encoder: (id, settings, feed, { startQueue, processSlots, log, events }) =>
      settings.codec === 'copy'
        ? new Passthrough(id, settings, feed, log)
        : new FfmpegEncoder({ id, settings, feed, ffmpegPath: ffmpeg.path, ffmpegFeatures: ffmpeg.features, startQueue, processSlots, log, events }),
    jpegView: (feed, { startQueue, processSlots, log }) => new JpegView(feed, { ffmpegPath: ffmpeg.path, startQueue, processSlots, log }),
    audio: (id, feed, { startQueue, processSlots, log }) => new AacAudio({ id, feed, ffmpegPath: ffmpeg.path, startQueue, processSlots, log }),
    opus: (id, aac, { startQueue, processSlots, log }) => new OpusAudio({ id, aac, ffmpegPath: ffmpeg.path, startQueue, processSlots, log }),
    settingsKey,
  };
}
