import { DrawnMjpegCamera } from '../../test/helpers/drawn-mjpeg-camera.ts';
import { drawPattern, PATTERN } from './pattern.ts';

/**
 * An MJPEG camera over HTTP whose every frame shows the wall clock (ms since `base`) as the bench pattern. Frames are
 * drawn in Node at `fps`, encoded to JPEG by one ffmpeg (mjpeg, a few ms per frame) and sent to every client.
 */
export class ClockCamera {
  readonly base = Date.now();
  private readonly camera: DrawnMjpegCamera;

  constructor(readonly fps = 25, ffmpeg = 'ffmpeg') {
    this.camera = new DrawnMjpegCamera({
      width: PATTERN.width, height: PATTERN.height, fps, path: '/clock.mjpg', quality: 5, ffmpeg,
      draw: (frame) => drawPattern(frame, Date.now() - this.base),
    });
  }

  get url(): string {
    return this.camera.url;
  }

  start(): Promise<void> {
    return this.camera.start();
  }

  stop(): Promise<void> {
    return this.camera.stop();
  }
}
