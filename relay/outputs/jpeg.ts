import type { Context } from 'koa';
import type { StreamConfig } from '../../conf/types.ts';
import { RelayError } from '../core/errors.ts';
import type { JpegView } from '../encoders/jpeg-view.ts';
import type { Feed } from '../core/feed.ts';
import type { OutputStats, StreamOutput } from './output.ts';

/** How long a snapshot request waits for a starting camera's or JPEG view's first frame. */
const FIRST_FRAME_WAIT_MS = 10_000;

/**
 * How long a snapshot keeps the camera's JPEG view running after it is answered: longer than the pages' refresh
 * periods (the wall's 0.4 s, the index's 3 s thumbnails), so a polled view is decoded once and stays current.
 */
export const SNAPSHOT_LINGER_MS = 10_000;

/** The latest camera image as one image/jpeg response (decoded from video by the JpegView for H.264 and VP8 cameras). */
export class JpegOutput implements StreamOutput {
  readonly video = undefined;
  readonly fanout = undefined;
  readonly player = undefined;
  readonly resourcePrefix = undefined;
  private active = 0;
  private lingering: { release: () => void; timer: NodeJS.Timeout } | undefined;
  bytesOut = 0;

  constructor(
    readonly config: StreamConfig,
    readonly feed: Feed,
    private readonly jpeg: JpegView,
  ) {}

  get viewerCount(): number {
    return this.active;
  }

  start(): void {}

  stats(): OutputStats {
    return { viewers: this.active, bytesOut: this.bytesOut, framesOut: 0, drops: 0, slowDisconnects: 0, waiting: 0, consumers: [], originRequests: undefined };
  }

  needsAdmission(): boolean {
    return true;
  }

  sweep(): void {}

  async serve(ctx: Context, subpath: string): Promise<void> {
    if (subpath) ctx.throw(404);
    this.active++;
    const release = this.jpeg.acquire();
    this.linger();
    try {
      const frame = await this.jpeg.currentFrame(FIRST_FRAME_WAIT_MS);
      if (!frame) throw new RelayError('NOT_READY', 'no frame from the camera yet');
      const frameAt = this.jpeg.lastFrameAt ?? Date.now();
      const ageMs = Date.now() - frameAt;
      // A frame older than the camera's Timeout is not "the latest image": the camera is down, say so.
      if (ageMs > this.feed.camera.timeoutMs) throw new RelayError('NOT_READY', `the camera has sent no frame for ${Math.round(ageMs / 1000)} s`);
      ctx.status = 200;
      ctx.type = 'image/jpeg';
      ctx.set('Cache-Control', 'no-cache, no-store, must-revalidate');
      ctx.set('Last-Modified', new Date(frameAt).toUTCString());
      ctx.set('X-Frame-Age', (ageMs / 1000).toFixed(1));
      ctx.body = frame.data;
      this.bytesOut += frame.data.length;
    } finally {
      this.active--;
      release();
    }
  }

  async close(): Promise<void> {
    this.endLinger();
  }

  /** Keeps one hold on the JPEG view until SNAPSHOT_LINGER_MS after the latest request. */
  private linger(): void {
    const release = this.lingering?.release ?? this.jpeg.acquire();
    clearTimeout(this.lingering?.timer);
    const timer = setTimeout(() => this.endLinger(), SNAPSHOT_LINGER_MS);
    timer.unref();
    this.lingering = { release, timer };
  }

  private endLinger(): void {
    clearTimeout(this.lingering?.timer);
    this.lingering?.release();
    this.lingering = undefined;
  }
}
