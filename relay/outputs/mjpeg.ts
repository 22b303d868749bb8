import type { Context } from 'koa';
import type { JpegUnit } from '../../media/types.ts';
import type { StreamConfig } from '../../conf/types.ts';
import type { JpegView } from '../encoders/jpeg-view.ts';
import type { Feed } from '../core/feed.ts';
import type { Viewer } from '../core/viewer.ts';
import { FanoutOutput } from './fanout-output.ts';
import { serveLiveViewer } from './output.ts';

export const MJPEG_BOUNDARY = 'relayframe';

/** What a viewer's body opens with: the first boundary line (every part then ends with the next one). */
const OPENING_BOUNDARY = Buffer.from(`--${MJPEG_BOUNDARY}\r\n`, 'latin1');

/**
 * One multipart part, built once per frame and written to every viewer as the same Buffer: headers, the JPEG, then
 * the next boundary line at once. A browser paints a part only when the boundary after it arrives; written ahead
 * of the next frame instead, it held every picture back one frame period. The bytes on the wire are the same.
 */
export function multipartPart(jpeg: Buffer): Buffer {
  const head = `Content-Type: image/jpeg\r\nContent-Length: ${jpeg.length}\r\n\r\n`;
  return Buffer.concat([Buffer.from(head, 'latin1'), jpeg, Buffer.from(`\r\n--${MJPEG_BOUNDARY}\r\n`, 'latin1')]);
}

/**
 * An MJPEG stream (multipart/x-mixed-replace): the camera's JPEGs (passed through, or decoded once from an H.264 or
 * VP8 camera by its JpegView), paced to VideoFrameRate. A new viewer gets the latest frame at once; a slow viewer
 * skips to the next frame.
 */
export class MjpegOutput extends FanoutOutput {
  readonly player = undefined;
  private lastSentAt = -Infinity;
  private latestPart: Buffer | undefined;
  private latestSource: JpegUnit | undefined;
  /** Viewers that joined before any frame: their opening boundary goes out with the first part, so a camera that never sends an image sends them nothing. */
  private readonly unopened = new Set<Viewer>();
  private unsubscribe: (() => void) | undefined;

  constructor(
    config: StreamConfig,
    feed: Feed,
    private readonly jpeg: JpegView,
  ) {
    super(config, feed, undefined);
  }

  override acquire(): () => void {
    return this.jpeg.acquire();
  }

  start(): void {
    this.unsubscribe = this.jpeg.subscribe((frame) => this.onFrame(frame));
  }

  async serve(ctx: Context, subpath: string): Promise<void> {
    if (subpath) ctx.throw(404);
    serveLiveViewer(ctx, this, `multipart/x-mixed-replace; boundary=${MJPEG_BOUNDARY}`);
  }

  protected join(viewer: Viewer): void {
    const latest = this.currentPart();
    if (latest) viewer.sendRequired(Buffer.concat([OPENING_BOUNDARY, latest]));
    else {
      this.unopened.add(viewer);
      viewer.onClose(() => this.unopened.delete(viewer));
    }
    this.fanout.add(viewer);
  }

  protected stop(): void {
    this.unsubscribe?.();
    this.unsubscribe = undefined;
  }

  /** The part for the feed's latest frame, built on demand for joining viewers. */
  private currentPart(): Buffer | undefined {
    const frame = this.jpeg.latestFrame;
    if (!frame) return undefined;
    if (frame !== this.latestSource) {
      this.latestSource = frame;
      this.latestPart = multipartPart(frame.data);
    }
    return this.latestPart;
  }

  private onFrame(frame: JpegUnit): void {
    if (this.fanout.viewers.size === 0) return;
    const rate = this.config.videoFrameRate;
    // Pacing keeps a frame when ~90% of an output interval has passed, so jitter does not halve the rate.
    if (rate > 0 && frame.pts - this.lastSentAt < 900 / rate) return;
    this.lastSentAt = frame.pts;
    this.latestSource = frame;
    this.latestPart = multipartPart(frame.data);
    for (const viewer of this.unopened) viewer.sendRequired(OPENING_BOUNDARY);
    this.unopened.clear();
    this.fanout.broadcast(this.latestPart, true);
  }
}
