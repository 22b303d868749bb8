import { readFile } from 'node:fs/promises';
import type { Relay } from '../running/relay.ts';
import { streamStats } from './stats.ts';

/** How often counters are sampled into rates; the status page refreshes on about the same period. */
export const SAMPLE_INTERVAL_MS = 2000;
/** Linux reports process CPU time in clock ticks of 1/100 s (USER_HZ, fixed by the kernel ABI). */
const TICKS_PER_SECOND = 100;
/** Viewers whose bit rate is measured, per stream; the same cap limits the status page's viewer lists. */
export const VIEWER_SAMPLE_CAP = 50;

/** Turns a counter that only grows into a per-second rate over the last sampling interval. */
export class RateMeter {
  private lastValue: number | undefined;
  private lastAt = 0;
  /** Units per second over the last interval; null until two samples exist or just after the counter restarted. */
  rate: number | null = null;

  sample(value: number, now: number): void {
    if (this.lastValue !== undefined && now > this.lastAt) {
      const delta = value - this.lastValue;
      this.rate = delta >= 0 ? (delta * 1000) / (now - this.lastAt) : null;
    }
    this.lastValue = value;
    this.lastAt = now;
  }
}

/** Measured rates of one camera, one stream, one viewer. */
export interface CameraRates {
  readonly frames: RateMeter;
  readonly bytes: RateMeter;
}
export interface StreamRates {
  readonly frames: RateMeter;
  readonly encodedBytes: RateMeter;
  readonly bytesOut: RateMeter;
  readonly cpu: CpuMeter;
}

/** CPU use of a child process from the deltas of its /proc/PID/stat times; null off Linux or before two samples. */
export class CpuMeter {
  private pid: number | undefined;
  private ticks = new RateMeter();
  private reading = false;

  get percent(): number | null {
    return this.ticks.rate === null ? null : (this.ticks.rate / TICKS_PER_SECOND) * 100;
  }

  async sample(pid: number | undefined, now: number): Promise<void> {
    if (this.reading) return;
    if (pid !== this.pid) {
      // A new process: its times start from zero, so the previous sample says nothing about it.
      this.pid = pid;
      this.ticks = new RateMeter();
    }
    if (pid === undefined) return;
    this.reading = true;
    try {
      const text = await readFile(`/proc/${pid}/stat`, 'latin1').catch(() => undefined);
      const ticks = text === undefined ? undefined : parseProcStatTicks(text);
      if (ticks !== undefined && pid === this.pid) this.ticks.sample(ticks, now);
    } finally {
      this.reading = false;
    }
  }
}

/** utime + stime (fields 14 and 15) of a /proc/PID/stat line; the command name in parentheses may hold spaces. */
export function parseProcStatTicks(text: string): number | undefined {
  const close = text.lastIndexOf(')');
  if (close < 0) return undefined;
  const fields = text.slice(close + 2).split(' ');
  // fields[0] is field 3 (state), so field N is fields[N - 3].
  const user = Number(fields[11]);
  const system = Number(fields[12]);
  if (!Number.isFinite(user) || !Number.isFinite(system) || fields[11] === '' || fields[12] === '') return undefined;
  return user + system;
}

/**
 * Samples a relay's counters on a timer into rates for the status page and /metrics. Meters are keyed by the
 * objects they measure, so a camera or stream rebuilt on reload starts fresh. Ends when the relay stops.
 */
export class RateSampler {
  private readonly cameras = new WeakMap<object, CameraRates>();
  private readonly streams = new WeakMap<object, StreamRates>();
  private readonly viewers = new WeakMap<object, RateMeter>();
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly relay: Relay) {
    this.sample();
    this.timer = setInterval(() => this.sample(), SAMPLE_INTERVAL_MS);
    this.timer.unref();
    relay.stopSignal.addEventListener('abort', () => this.stop(), { once: true });
  }

  stop(): void {
    clearInterval(this.timer);
  }

  camera(feed: object): CameraRates {
    let rates = this.cameras.get(feed);
    if (!rates) this.cameras.set(feed, (rates = { frames: new RateMeter(), bytes: new RateMeter() }));
    return rates;
  }

  stream(output: object): StreamRates {
    let rates = this.streams.get(output);
    if (!rates) {
      rates = { frames: new RateMeter(), encodedBytes: new RateMeter(), bytesOut: new RateMeter(), cpu: new CpuMeter() };
      this.streams.set(output, rates);
    }
    return rates;
  }

  /** The rate of one viewer: an HTTP Viewer, or an edge consumer's handle. */
  viewer(viewer: object): RateMeter {
    let meter = this.viewers.get(viewer);
    if (!meter) this.viewers.set(viewer, (meter = new RateMeter()));
    return meter;
  }

  /** Reads every counter once; reads /proc for each running ffmpeg (asynchronously, one small file each). */
  sample(now = Date.now()): void {
    for (const feed of this.relay.feeds.values()) {
      const rates = this.camera(feed);
      rates.frames.sample(feed.counters.framesIn, now);
      rates.bytes.sample(feed.counters.bytesIn, now);
    }
    for (const output of this.relay.outputs.values()) {
      const rates = this.stream(output);
      const stats = streamStats(output);
      rates.frames.sample(stats.framesOut, now);
      rates.encodedBytes.sample(stats.encoder?.counters.bytesOut ?? 0, now);
      rates.bytesOut.sample(stats.bytesOut, now);
      if (stats.encoder?.pid !== undefined) void rates.cpu.sample(stats.encoder.pid, now);
      let count = 0;
      for (const viewer of stats.consumers) {
        if (count++ >= VIEWER_SAMPLE_CAP) break;
        this.viewer(viewer).sample(viewer.bytesSent, now);
      }
      for (const consumer of this.relay.protocolConsumers(output.config.name, VIEWER_SAMPLE_CAP - Math.min(count, VIEWER_SAMPLE_CAP))) {
        this.viewer(consumer.handle).sample(consumer.bytesSent, now);
      }
    }
  }
}
