/** Resolution of the lag histogram, in milliseconds. */
const BIN_MS = 0.1;
/** Lags above this share the last bin (the exact maximum is kept apart). */
const RANGE_MS = 10_000;
const BINS = Math.ceil(RANGE_MS / BIN_MS) + 1;

/** A histogram as it crosses process boundaries: sparse [bin, count] pairs. */
export interface HistogramData {
  readonly bins: Array<[number, number]>;
  readonly count: number;
  readonly max: number;
}

/** A fixed-resolution histogram of lags: constant memory whatever the number of samples, mergeable across workers. */
export class Histogram {
  private counts = new Uint32Array(BINS);
  count = 0;
  max = 0;

  record(ms: number): void {
    const value = ms < 0 ? 0 : ms;
    this.counts[Math.min(BINS - 1, Math.round(value / BIN_MS))]!++;
    this.count++;
    if (value > this.max) this.max = value;
  }

  reset(): void {
    this.counts.fill(0);
    this.count = 0;
    this.max = 0;
  }

  toData(): HistogramData {
    const bins: Array<[number, number]> = [];
    for (let bin = 0; bin < BINS; bin++) if (this.counts[bin]! > 0) bins.push([bin, this.counts[bin]!]);
    return { bins, count: this.count, max: this.max };
  }

  merge(data: HistogramData): void {
    for (const [bin, count] of data.bins) this.counts[bin]! += count;
    this.count += data.count;
    this.max = Math.max(this.max, data.max);
  }

  /** The value below which the fraction q of samples lie (NaN without samples). */
  quantile(q: number): number {
    if (this.count === 0) return NaN;
    const rank = Math.max(1, Math.ceil(q * this.count));
    let seen = 0;
    for (let bin = 0; bin < BINS; bin++) {
      seen += this.counts[bin]!;
      if (seen >= rank) return Math.min(bin * BIN_MS, this.max);
    }
    return this.max;
  }
}

/** Median and p95 of a small list of samples (times to first frame). */
export function percentile(values: readonly number[], q: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}
