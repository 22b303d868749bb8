import type { EncoderSettings } from './ffmpeg-args.ts';
import type { Feed } from '../core/feed.ts';
import type { Logger } from '../../lib/log.ts';
import { isH264Unit, unitBytes, type VideoUnit } from '../../media/types.ts';
import { SharedEncoder } from './shared-encoder.ts';

/**
 * `VideoCodec copy`: the camera's own H.264 units, passed through without any process. Each keeps the camera's times
 * (RTP time for RTSP cameras), so viewers and recordings see the camera's frame spacing, not the network's jitter; its
 * track is the one the source made where SPS and PPS arrived.
 */
export class Passthrough extends SharedEncoder {
  readonly supervisor = undefined;
  readonly pid = undefined;
  private unsubscribe: (() => void) | undefined;
  private lastError = '';

  constructor(id: string, settings: EncoderSettings, feed: Feed, log: Logger) {
    super(id, settings, feed, log);
  }

  get stderrTail(): string {
    return this.lastError;
  }

  protected run(): void {
    if (this.unsubscribe) return;
    for (const frame of this.feed.groupOfPictures) this.onFrame(frame);
    this.unsubscribe = this.feed.subscribe((frame) => this.onFrame(frame));
  }

  protected async halt(): Promise<void> {
    this.unsubscribe?.();
    this.unsubscribe = undefined;
  }

  private onFrame(frame: VideoUnit): void {
    this.counters.framesIn++;
    if (!isH264Unit(frame)) {
      this.counters.framesDropped++;
      this.lastError = `VideoCodec copy needs an H.264 camera; this one sends ${frame.track.codec}`;
      return;
    }
    if (frame.track.width === 0) {
      this.counters.framesDropped++;
      this.lastError = 'unreadable SPS from the camera';
      return;
    }
    // The camera's own unit goes on as it is: no copy, no re-framing until a container needs one.
    this.publish(frame, unitBytes(frame));
  }
}
