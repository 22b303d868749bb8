import type { Context } from 'koa';
import type { StreamConfig } from '../../conf/types.ts';
import type { SharedEncoder } from '../encoders/shared-encoder.ts';
import { Fanout } from '../core/fanout.ts';
import type { Feed } from '../core/feed.ts';
import type { Viewer } from '../core/viewer.ts';
import type { LiveOutput, OutputStats, PlayerKind } from './output.ts';

/**
 * What the live streams (FLV, MJPEG) share: their consumers are the fan-out's, every HTTP viewer is admitted, stalled
 * and long-waiting consumers are swept, and each consumer holds the camera (and encoder) while it stays.
 */
export abstract class FanoutOutput implements LiveOutput {
  readonly fanout: Fanout;
  readonly resourcePrefix = undefined;
  abstract readonly player: PlayerKind | undefined;

  constructor(
    readonly config: StreamConfig,
    readonly feed: Feed,
    readonly video: SharedEncoder | undefined,
  ) {
    this.fanout = new Fanout(config.viewerWriteTimeoutMs);
  }

  get viewerCount(): number {
    return this.fanout.viewers.size;
  }

  get bytesOut(): number {
    return this.fanout.counters.bytesOut;
  }

  stats(): OutputStats {
    const { counters } = this.fanout;
    return {
      viewers: this.viewerCount,
      bytesOut: this.bytesOut,
      framesOut: counters.framesOut,
      drops: counters.drops + (this.video?.counters.framesDropped ?? 0),
      slowDisconnects: counters.slowDisconnects,
      waiting: this.fanout.waitingViewers.length,
      consumers: this.fanout.viewers,
      originRequests: undefined,
    };
  }

  needsAdmission(): boolean {
    return true;
  }

  sweep(now: number): void {
    this.fanout.sweep(now);
  }

  acquire(): () => void {
    return this.video ? this.video.acquire() : this.feed.acquire();
  }

  attach(viewer: Viewer): void {
    viewer.onClose(this.acquire());
    this.join(viewer);
  }

  async close(): Promise<void> {
    this.stop();
    this.fanout.endAll();
  }

  /** Sends what a new consumer needs first and adds it to the fan-out (waiting, if the stream cannot start it yet). */
  protected abstract join(viewer: Viewer): void;
  /** Stops taking frames (the stream closes). */
  protected abstract stop(): void;
  abstract start(): void;
  abstract serve(ctx: Context, subpath: string): Promise<void>;
}
