import { Viewer } from './viewer.ts';

/** Counters of one stream's fan-out, read by /stat.html and /metrics. */
export interface FanoutCounters {
  bytesOut: number;
  framesOut: number;
  drops: number;
  viewersServed: number;
  slowDisconnects: number;
  /** Viewers ended because the stream did not start for them in time. */
  waitTimeouts: number;
}

/**
 * Writes the same Buffer to every started viewer of one stream; each viewer applies its own budget. A viewer that
 * joined before the stream could start it (camera or encoder still starting) is waiting: it is a viewer all the same,
 * counted, listed, ended with the stream, and ended when it waits too long.
 */
export class Fanout {
  readonly viewers = new Set<Viewer>();
  private readonly waiting = new Map<Viewer, number>();
  readonly counters: FanoutCounters = { bytesOut: 0, framesOut: 0, drops: 0, viewersServed: 0, slowDisconnects: 0, waitTimeouts: 0 };

  /** @param maxWaitMs a viewer waiting for a stream that is not live yet is ended after this long (ViewerWriteTimeout). */
  constructor(private readonly maxWaitMs = 20_000) {}

  /** Adds a started viewer: whatever it needed to begin (header, configuration, keyframe group) has been sent. */
  add(viewer: Viewer): void {
    this.viewers.add(viewer);
    this.counters.viewersServed++;
    // Bytes a viewer got before joining (stream header, codec configuration, the current group of pictures) are out too.
    this.counters.bytesOut += viewer.bytesSent;
    viewer.onClose(() => {
      this.viewers.delete(viewer);
      this.waiting.delete(viewer);
    });
  }

  /** Adds a viewer that gets nothing until start() is called for it. */
  addWaiting(viewer: Viewer, now = Date.now()): void {
    this.waiting.set(viewer, now);
    this.add(viewer);
  }

  /** The viewers still waiting, oldest first. */
  get waitingViewers(): Viewer[] {
    return [...this.waiting.keys()];
  }

  /** Marks a waiting viewer started after its first bytes were sent with sendRequired(). */
  start(viewer: Viewer, bytesSent: number): void {
    if (!this.waiting.delete(viewer)) return;
    this.counters.bytesOut += bytesSent;
  }

  /** `to`: only the started viewers it accepts (by default all of them). */
  broadcast(bytes: Buffer, keyframe: boolean, to?: (viewer: Viewer) => boolean): void {
    this.counters.framesOut++;
    for (const viewer of this.viewers) {
      if (this.waiting.has(viewer) || (to && !to(viewer))) continue;
      if (viewer.send(bytes, keyframe)) this.counters.bytesOut += bytes.length;
      else this.counters.drops++;
    }
  }

  /** Bytes every started viewer must have (a new codec configuration), regardless of budget. */
  broadcastRequired(bytes: Buffer): void {
    for (const viewer of this.viewers) {
      if (this.waiting.has(viewer)) continue;
      viewer.sendRequired(bytes);
      this.counters.bytesOut += bytes.length;
    }
  }

  /** Ends stalled viewers and viewers that waited too long; called on a timer, off the hot path. */
  sweep(now: number): void {
    for (const viewer of this.viewers) {
      const waitingSince = this.waiting.get(viewer);
      if (waitingSince !== undefined) {
        if (now - waitingSince < this.maxWaitMs) continue;
        this.counters.waitTimeouts++;
        viewer.end();
      } else if (viewer.checkStalled(now)) this.counters.slowDisconnects++;
    }
  }

  /** Ends every viewer, started or waiting (the stream closes). */
  endAll(): void {
    for (const viewer of this.viewers) viewer.end();
  }
}
