import type { StatusSnapshot } from './status.ts';

/** One sample every 10 s, 360 of them: the last hour. */
export const HISTORY_INTERVAL_MS = 10_000;
export const HISTORY_SAMPLES = 360;

/** A fixed number of the latest values of one measure, oldest first; NaN marks a sample with no value. */
export class SampleRing {
  private readonly values: Float64Array;
  private next = 0;
  private count = 0;

  constructor(readonly capacity: number) {
    this.values = new Float64Array(capacity).fill(NaN);
  }

  push(value: number | null): void {
    this.values[this.next] = value === null || !Number.isFinite(value) ? NaN : value;
    this.next = (this.next + 1) % this.capacity;
    this.count = Math.min(this.count + 1, this.capacity);
  }

  /** The samples held, oldest first (null where there was no value). */
  toArray(): Array<number | null> {
    const out: Array<number | null> = [];
    for (let i = 0; i < this.count; i++) {
      const value = this.values[(this.next - this.count + i + this.capacity) % this.capacity]!;
      out.push(Number.isNaN(value) ? null : value);
    }
    return out;
  }

  /** True when every sample held is empty. */
  get empty(): boolean {
    return this.toArray().every((value) => value === null);
  }
}

/** What a chart shows: whose measure (server, a camera, a stream) and which. */
export interface SeriesKey {
  readonly owner: 'server' | 'camera' | 'stream';
  /** Camera or stream name; '' for the server. */
  readonly name: string;
  readonly measure: Measure;
}

export type Measure = 'viewers' | 'outKbps' | 'inputFps' | 'originRequestsPerSecond';

/** The measures one snapshot yields, by owner. */
export function measuresOf(snapshot: StatusSnapshot): Array<[SeriesKey, number | null]> {
  const out: Array<[SeriesKey, number | null]> = [
    [{ owner: 'server', name: '', measure: 'viewers' }, snapshot.server.viewers],
    [{ owner: 'server', name: '', measure: 'outKbps' }, snapshot.server.measuredOutKbps],
  ];
  for (const camera of snapshot.cameras) {
    out.push([{ owner: 'camera', name: camera.name, measure: 'inputFps' }, camera.inputFps]);
    out.push([{ owner: 'camera', name: camera.name, measure: 'viewers' }, camera.viewers]);
  }
  for (const stream of snapshot.streams) {
    out.push([{ owner: 'stream', name: stream.name, measure: 'viewers' }, stream.viewers]);
    out.push([{ owner: 'stream', name: stream.name, measure: 'outKbps' }, stream.measured.outKbps]);
  }
  return out;
}

const keyText = (key: SeriesKey): string => `${key.owner}\u0000${key.name}\u0000${key.measure}`;

/**
 * The last hour of the status page's measures, one ring per series, fed from status snapshots (never from the
 * relay's internals). A series whose camera or stream is gone is dropped once its whole ring is empty, so reloads
 * cannot grow it without bound.
 */
export class StatusHistory {
  private readonly series = new Map<string, { key: SeriesKey; ring: SampleRing }>();
  /** Each HLS stream's origin request total at the previous sample, to turn the counter into a rate. */
  private originTotals = new Map<string, { total: number; at: number }>();
  private samples = 0;
  /** When the newest sample was taken (ms since the epoch); 0 before the first. */
  lastSampleAt = 0;

  constructor(readonly capacity = HISTORY_SAMPLES) {}

  record(snapshot: StatusSnapshot, now = Date.now()): void {
    const seen = new Set<string>();
    for (const [key, value] of [...measuresOf(snapshot), ...this.originRates(snapshot, now)]) {
      const text = keyText(key);
      seen.add(text);
      let entry = this.series.get(text);
      if (!entry) {
        entry = { key, ring: new SampleRing(this.capacity) };
        // A series that starts late is padded, so every chart's newest sample sits at the same place.
        for (let i = 0; i < this.sampleCount; i++) entry.ring.push(null);
        this.series.set(text, entry);
      }
      entry.ring.push(value);
    }
    for (const [text, entry] of this.series) {
      if (seen.has(text)) continue;
      entry.ring.push(null);
      if (entry.ring.empty) this.series.delete(text);
    }
    this.samples = Math.min(this.samples + 1, this.capacity);
    this.lastSampleAt = now;
  }

  /** Requests per second that reached the relay for each HLS stream since the previous sample (null at first). */
  private originRates(snapshot: StatusSnapshot, now: number): Array<[SeriesKey, number | null]> {
    const totals = new Map<string, { total: number; at: number }>();
    const out: Array<[SeriesKey, number | null]> = [];
    for (const stream of snapshot.streams) {
      if (!stream.originRequests) continue;
      const total = Object.values(stream.originRequests).reduce((sum, count) => sum + count, 0);
      const before = this.originTotals.get(stream.name);
      // A counter that went back belongs to a stream rebuilt by a reload: no rate across that.
      const rate = before && now > before.at && total >= before.total ? ((total - before.total) * 1000) / (now - before.at) : null;
      out.push([{ owner: 'stream', name: stream.name, measure: 'originRequestsPerSecond' }, rate]);
      totals.set(stream.name, { total, at: now });
    }
    this.originTotals = totals;
    return out;
  }

  /** Samples taken, up to the capacity. */
  get sampleCount(): number {
    return this.samples;
  }

  /** The values of one series, oldest first; undefined if it is not kept. */
  values(owner: SeriesKey['owner'], name: string, measure: Measure): Array<number | null> | undefined {
    return this.series.get(keyText({ owner, name, measure }))?.ring.toArray();
  }

  /** Every series kept, in the order they were first seen. */
  all(): Array<{ key: SeriesKey; values: Array<number | null> }> {
    return [...this.series.values()].map(({ key, ring }) => ({ key, values: ring.toArray() }));
  }
}

/** Records a snapshot into `history` every interval until `signal` aborts. */
export function sampleHistory(history: StatusHistory, snapshot: () => StatusSnapshot, signal: AbortSignal, intervalMs = HISTORY_INTERVAL_MS): void {
  history.record(snapshot());
  const timer = setInterval(() => history.record(snapshot()), intervalMs);
  timer.unref();
  signal.addEventListener('abort', () => clearInterval(timer), { once: true });
}
