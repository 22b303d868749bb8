import type { Context } from 'koa';
import type { StreamConfig } from '../../conf/types.ts';
import { Fanout } from '../fanout.ts';
import type { Feed } from '../feed.ts';
import type { Transcode } from '../transcode.ts';
import { Demand, type StreamOutput } from './output.ts';

/**
 * What the live streams (FLV, MJPEG) share: their viewers are the fan-out's, every viewer is admitted, and stalled
 * viewers are swept. The camera and any transcode are held while viewers watch.
 */
export abstract class FanoutOutput implements StreamOutput {
  readonly fanout = new Fanout();
  protected readonly demand: Demand;

  constructor(
    readonly config: StreamConfig,
    readonly feed: Feed,
    readonly transcode: Transcode | undefined,
  ) {
    this.demand = new Demand(feed, transcode);
  }

  get viewerCount(): number {
    return this.fanout.viewers.size;
  }

  get bytesOut(): number {
    return this.fanout.counters.bytesOut;
  }

  needsAdmission(): boolean {
    return true;
  }

  sweep(now: number): void {
    this.fanout.sweep(now);
  }

  abstract start(): void;
  abstract serve(ctx: Context, subpath: string): Promise<void>;
  abstract close(): Promise<void>;
}
