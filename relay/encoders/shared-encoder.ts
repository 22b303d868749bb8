import type { EncoderSettings } from './ffmpeg-args.ts';
import type { Feed } from '../core/feed.ts';
import type { Logger } from '../../lib/log.ts';
import { Demand } from '../core/demand.ts';
import type { H264Listener, H264Source, H264Track, H264Unit } from '../../media/types.ts';
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
 * What every encoder shares: the H.264 units its streams package, counters, and demand. While anyone holds it, the
 * camera is held too; an on-demand camera's encoder runs only while held and lingers CloseAfter after the last release.
 */
export abstract class SharedEncoder implements H264Source {
  private readonly demand = new Demand(() => this.held(), () => this.released());
  private releaseFeed: (() => void) | undefined;
  private stopTimer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(
    readonly id: string,
    readonly settings: EncoderSettings,
    protected readonly feed: Feed,
    protected readonly log: Logger,
  ) {}

  abstract readonly counters: Readonly<EncoderCounters>;
  /** The supervisor of the encoding process; undefined where nothing runs apart from the camera (copy). */
  abstract readonly supervisor: Supervisor | undefined;
  abstract readonly pid: number | undefined;
  abstract readonly stderrTail: string;
  abstract readonly track: H264Track | undefined;
  abstract readonly groupOfPictures: readonly H264Unit[];
  abstract subscribe(listener: H264Listener): () => void;
  protected abstract run(): void;
  /** Stops running and forgets the run's kept frames: nobody may start on a finished run's frames. */
  protected abstract halt(): Promise<void>;

  get alwaysOn(): boolean {
    return !this.feed.camera.onDemand;
  }

  /** Consumers currently holding this encoder. */
  get holderCount(): number {
    return this.demand.holders;
  }

  acquire(): () => void {
    return this.demand.acquire();
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
    if (this.demand.holders === 0 && !this.alwaysOn) await this.halt();
  }
}
