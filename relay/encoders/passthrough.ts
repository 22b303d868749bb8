import type { EncoderSettings } from './ffmpeg-args.ts';
import type { Feed } from '../core/feed.ts';
import type { Logger } from '../../lib/log.ts';
import type { H264Listener, H264Track, H264Unit } from '../../media/types.ts';
import { SharedEncoder, type EncoderCounters } from './shared-encoder.ts';

const NO_FRAMES: Readonly<EncoderCounters> = Object.freeze({ framesIn: 0, framesDropped: 0, framesOut: 0, bytesOut: 0 });

/**
 * `VideoCodec copy`: the camera's own H.264 units, straight from its Feed with no process, no second kept group and
 * nothing in between: streams subscribe to the Feed's hub, a joining viewer starts on the Feed's kept keyframe. Each
 * unit keeps the camera's times (RTP time for RTSP cameras), so viewers and recordings see the camera's frame
 * spacing, not the network's jitter. What it holds is demand (the camera runs while a stream holds it) and its
 * figures, read from the Feed's counters over the time it runs.
 */
export class Passthrough extends SharedEncoder {
  readonly supervisor = undefined;
  readonly pid = undefined;
  /** Counted over earlier runs, and the Feed's figures when the current run began (undefined while stopped). */
  private counted: Readonly<EncoderCounters> = NO_FRAMES;
  private runStart: Readonly<EncoderCounters> | undefined;

  constructor(id: string, settings: EncoderSettings, feed: Feed, log: Logger) {
    super(id, settings, feed, log);
  }

  get track(): H264Track | undefined {
    return this.feed.h264Track;
  }

  get groupOfPictures(): readonly H264Unit[] {
    return this.feed.h264Group;
  }

  subscribe(listener: H264Listener): () => void {
    return this.feed.subscribeH264(listener);
  }

  /** The frames it handed on and could not hand on (not H.264, or an unreadable SPS) while it ran. */
  get counters(): Readonly<EncoderCounters> {
    return this.runStart ? add(this.counted, this.feedFigures(), this.runStart) : this.counted;
  }

  /** The last reason a camera frame could not be handed on, once one could not. */
  get stderrTail(): string {
    return this.counters.framesDropped > 0 ? this.feed.copyProblem ?? '' : '';
  }

  protected run(): void {
    this.runStart ??= this.feedFigures();
  }

  protected async halt(): Promise<void> {
    if (!this.runStart) return;
    this.counted = add(this.counted, this.feedFigures(), this.runStart);
    this.runStart = undefined;
  }

  private feedFigures(): EncoderCounters {
    const { framesIn, copyableFramesIn, copyableBytesIn } = this.feed.counters;
    return { framesIn, framesOut: copyableFramesIn, framesDropped: framesIn - copyableFramesIn, bytesOut: copyableBytesIn };
  }
}

/** `base` plus what changed from `from` to `to`. */
function add(base: Readonly<EncoderCounters>, to: EncoderCounters, from: Readonly<EncoderCounters>): EncoderCounters {
  return {
    framesIn: base.framesIn + to.framesIn - from.framesIn,
    framesOut: base.framesOut + to.framesOut - from.framesOut,
    framesDropped: base.framesDropped + to.framesDropped - from.framesDropped,
    bytesOut: base.bytesOut + to.bytesOut - from.bytesOut,
  };
}
