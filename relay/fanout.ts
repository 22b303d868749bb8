import { Viewer } from './viewer.ts';

/** Counters of one stream's fan-out, read by /stat.html and /metrics. */
export interface FanoutCounters {
  bytesOut: number;
  framesOut: number;
  drops: number;
  viewersServed: number;
  slowDisconnects: number;
}

/** Writes the same Buffer to every viewer of one stream; each viewer applies its own budget. */
export class Fanout {
  readonly viewers = new Set<Viewer>();
  readonly counters: FanoutCounters = { bytesOut: 0, framesOut: 0, drops: 0, viewersServed: 0, slowDisconnects: 0 };

  add(viewer: Viewer): void {
    this.viewers.add(viewer);
    this.counters.viewersServed++;
    // Bytes a viewer got before joining (stream header, codec configuration, the current group of pictures) are out too.
    this.counters.bytesOut += viewer.bytesSent;
    viewer.onClose(() => this.viewers.delete(viewer));
  }

  broadcast(bytes: Buffer, keyframe: boolean): void {
    this.counters.framesOut++;
    for (const viewer of this.viewers) {
      if (viewer.send(bytes, keyframe)) this.counters.bytesOut += bytes.length;
      else this.counters.drops++;
    }
  }

  /** Disconnects viewers whose sockets have stopped taking bytes; called on a timer, off the hot path. */
  sweep(now: number): void {
    for (const viewer of this.viewers) {
      if (viewer.checkStalled(now)) this.counters.slowDisconnects++;
    }
  }

  endAll(): void {
    for (const viewer of this.viewers) viewer.end();
  }
}
