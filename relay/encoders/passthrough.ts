import { frameBytes, type Frame } from '../../adapters/types.ts';
import type { EncoderSettings } from './ffmpeg-args.ts';
import type { Feed } from '../core/feed.ts';
import type { Logger } from '../../lib/log.ts';
import { nalType, NalType } from '../../media/h264/annexb.ts';
import { h264Track } from '../../media/h264/params.ts';
import type { H264Track } from '../../media/types.ts';
import { SharedEncoder } from './shared-encoder.ts';

/**
 * `VideoCodec copy`: the camera's own H.264, passed through without any process. Each access unit keeps the
 * camera's timestamp (RTP time for RTSP cameras), so viewers and recordings see the camera's frame spacing, not the
 * network's jitter. A change of SPS or PPS starts a new track. Assumes no B-frames (presentation order = decode order),
 * which holds for the IP cameras this serves.
 */
export class Passthrough extends SharedEncoder {
  readonly supervisor = undefined;
  readonly pid = undefined;
  private unsubscribe: (() => void) | undefined;
  private current: H264Track | undefined;
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
    this.current = undefined;
  }

  private onFrame(frame: Frame): void {
    this.counters.framesIn++;
    if (frame.codec !== 'h264') {
      this.counters.framesDropped++;
      this.lastError = `VideoCodec copy needs an H.264 camera; this one sends ${frame.codec}`;
      return;
    }
    const all = frame.data;
    const sps = all.find((nal) => nalType(nal) === NalType.sps);
    const pps = all.find((nal) => nalType(nal) === NalType.pps);
    if (frame.keyframe && sps && pps && !(this.current?.sps.equals(sps) && this.current.pps.equals(pps))) {
      try {
        this.current = h264Track(Buffer.from(sps), Buffer.from(pps));
      } catch (error) {
        this.lastError = `unreadable SPS from the camera: ${(error as Error).message}`;
        this.current = undefined;
      }
    }
    if (!this.current) {
      this.counters.framesDropped++;
      return;
    }
    const nalus = all.filter((nal) => {
      const type = nalType(nal);
      return type !== NalType.sps && type !== NalType.pps && type !== NalType.aud;
    });
    if (nalus.length === 0) return;
    // The camera's own NAL unit buffers go on as they are: no copy, no re-framing until a container needs one.
    this.publish({ track: this.current, data: nalus, pts: frame.timestamp, dts: frame.timestamp, keyframe: frame.keyframe }, frameBytes(frame));
  }
}
