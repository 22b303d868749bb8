import { encoderSettings } from '../encoders/ffmpeg-args.ts';
import { FlvOutput } from './flv.ts';
import { HlsOutput } from './hls.ts';
import { JpegOutput } from './jpeg.ts';
import { MjpegOutput } from './mjpeg.ts';
import type { OutputProtocol } from './registry.ts';

/** HTTP-FLV (`Format flv`): the stream's H.264, encoded once per setting, as FLV tags to every viewer. */
export const flvProtocol: OutputProtocol = {
  name: 'flv',
  formats: ['flv'],
  mount: (stream, media) => new FlvOutput(stream, media.feed, media.encoder(encoderSettings(stream)), stream.audio ? media.audio() : undefined),
};

/** HLS and LL-HLS (`Format hls`, `LowLatency yes`): segments and parts packaged in the relay. */
export const hlsProtocol: OutputProtocol = {
  name: 'hls',
  formats: ['hls'],
  mount: (stream, media) => new HlsOutput(stream, media.feed, media.encoder(encoderSettings(stream)), stream.audio ? media.audio() : undefined),
};

/** MJPEG (`Format mpjpeg`): the camera's JPEG view as multipart/x-mixed-replace. */
export const mjpegProtocol: OutputProtocol = {
  name: 'mjpeg',
  formats: ['mpjpeg'],
  mount: (stream, media) => new MjpegOutput(stream, media.feed, media.jpegView()),
};

/** Snapshots (`Format jpeg`): the latest image of the camera's JPEG view. */
export const jpegProtocol: OutputProtocol = {
  name: 'jpeg',
  formats: ['jpeg'],
  mount: (stream, media) => new JpegOutput(stream, media.feed, media.jpegView()),
};
