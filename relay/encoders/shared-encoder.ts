import type { EncoderSettings } from './ffmpeg-args.ts';
import type { Feed } from '../core/feed.ts';
import type { Logger } from '../../lib/log.ts';
import { EncodedHub } from '../core/hub.ts';
import type { EncodedFrameListener, EncodedVideoFrame, EncodedVideoSource, H264Track } from '../../media/types.ts';
import type { Supervisor } from '../core/supervisor.ts';

/** Counters of one encoder, for /stat.json and /metrics. */
export interface EncoderCounters {
  /** Camera frames handed to the encoder. */
  framesIn: number;
  /** Camera frames not handed over (encoder backed up, or waiting for a keyframe). */
  framesDropped: number;
  /** Encoded access units out. */
  framesOut: number;
  /** Encoded bytes out. */
  bytesOut: number;
}

/**
 * What every encoder shares: the hub its frames go out on, and demand. While anyone holds it, the camera is held
 * too; an on-demand camera's encoder runs only while held and lingers CloseAfter after the last release.
 */
export abstract class SharedEncoder implements EncodedVideoSource {
  readonly counters: EncoderCounters = { framesIn: 0, framesDropped: 0, framesOut: 0, bytesOut: 0 };
  protected readonly hub: EncodedHub;
  private releaseFeed: (() => void) | undefined;
  private stopTimer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(
    readonly id: string,
    readonly settings: EncoderSettings,
    protected readonly feed: Feed,
    protected readonly log: Logger,
  ) {
    this.hub = new EncodedHub(id, {
      onAcquire: () => this.held(),
      onLast: () => this.released(),
      onSubscriberError: (error) => log.error(`encoded frame listener failed and was removed: ${error.message}`),
    });
  }

  /** The supervisor of the encoding process; undefined where nothing runs apart from the camera (copy). */
  abstract readonly supervisor: Supervisor | undefined;
  abstract readonly pid: number | undefined;
  abstract readonly stderrTail: string;
  protected abstract run(): void;
  protected abstract halt(): Promise<void>;

  get track(): H264Track | undefined {
    return this.hub.track;
  }

  get groupOfPictures(): readonly EncodedVideoFrame[] {
    return this.hub.groupOfPictures;
  }

  get alwaysOn(): boolean {
    return !this.feed.camera.onDemand;
  }

  /** Consumers currently holding this encoder. */
  get holderCount(): number {
    return this.hub.holders;
  }

  subscribe(listener: EncodedFrameListener): () => void {
    return this.hub.subscribe(listener);
  }

  acquire(): () => void {
    return this.hub.acquire();
  }

  /** Starts an always-on camera's encoder at once; an on-demand one waits for acquire(). */
  start(): void {
    if (this.alwaysOn && !this.closed) this.run();
  }

  /** Stops for good and forgets the held frames. Safe to call twice. */
  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.stopTimer);
    this.releaseFeed?.();
    this.releaseFeed = undefined;
    await this.halt();
  }

  protected publish(frame: EncodedVideoFrame, bytes: number): void {
    this.counters.framesOut++;
    this.counters.bytesOut += bytes;
    this.hub.publish(frame);
  }

  private held(): void {
    clearTimeout(this.stopTimer);
    this.releaseFeed ??= this.feed.acquire();
    if (!this.closed) this.run();
  }

  private released(): void {
    // The Feed lingers by itself; the encoder lingers alongside so a returning viewer finds both warm.
    this.releaseFeed?.();
    this.releaseFeed = undefined;
    if (this.alwaysOn) return;
    this.stopTimer = setTimeout(() => void this.idle(), this.feed.camera.closeAfterMs);
    this.stopTimer.unref();
  }

  private async idle(): Promise<void> {
    if (this.hub.holders === 0 && !this.alwaysOn) {
      await this.halt();
      this.hub.reset();
    }
  }
}
