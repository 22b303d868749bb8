import type { Context } from 'koa';
import type { StreamConfig } from '../../conf/types.ts';
import { RelayError } from '../errors.ts';
import type { Feed } from '../feed.ts';
import type { StreamOutput } from './output.ts';

/** How long a snapshot request waits for an on-demand camera's first frame. */
const FIRST_FRAME_WAIT_MS = 10_000;

/** The latest camera frame as one image/jpeg response. */
export class JpegOutput implements StreamOutput {
  readonly video = undefined;
  readonly fanout = undefined;
  private active = 0;
  bytesOut = 0;

  constructor(
    readonly config: StreamConfig,
    readonly feed: Feed,
  ) {}

  get viewerCount(): number {
    return this.active;
  }

  start(): void {}

  needsAdmission(): boolean {
    return true;
  }

  sweep(): void {}

  async serve(ctx: Context, subpath: string): Promise<void> {
    if (subpath) ctx.throw(404);
    this.active++;
    const release = this.feed.acquire();
    try {
      const frame = this.feed.latestFrame ?? (await this.nextFrame());
      if (!frame || frame.codec !== 'jpeg') throw new RelayError('NOT_READY', 'no frame from the camera yet');
      const frameAt = this.feed.counters.lastFrameAt ?? Date.now();
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

  async close(): Promise<void> {}

  private nextFrame() {
    return new Promise<ReturnType<() => Feed['latestFrame']>>((resolve) => {
      const timer = setTimeout(() => finish(undefined), FIRST_FRAME_WAIT_MS);
      const unsubscribe = this.feed.subscribe((frame) => finish(frame));
      function finish(frame: Feed['latestFrame']): void {
        clearTimeout(timer);
        unsubscribe();
        resolve(frame);
      }
    });
  }
}
