import type { StreamFormat } from './loadgen/viewer.ts';
import type { ScenarioSpec } from './scenario.ts';
import type { FlvSettings, TargetKind } from './targets.ts';

/** Options of `npm run bench`. */
export interface BenchOptions {
  /** Viewer counts of the MJPEG and FLV comparisons. */
  readonly counts: number[];
  /** The FLV count whose RSS is checked against the 150 MB target (added to the FLV counts). */
  readonly rssCount: number;
  readonly windowSeconds: number;
  readonly workers: number;
  /** Scenario groups to run: mjpeg, flv, slow, maxn. */
  readonly groups: string[];
  /** Targets compared: relay and any of floor, mjpeg-proxy, nms. */
  readonly targets: TargetKind[];
  /** Viewer counts tried, in order, for the largest 320x240 4 fps FLV audience. */
  readonly maxnSteps: number[];
  readonly joins: number;
  readonly out: string;
  /** Latency group: only the players whose label starts with one of these (all when empty). */
  readonly latencyOnly: string[];
}

export const FLV_VGA: FlvSettings = { width: 640, height: 480, fps: 25, kbps: 1000 };
export const FLV_QVGA: FlvSettings = { width: 320, height: 240, fps: 4, kbps: 256 };

/** One entry of the plan: the scenario and the camera it reads. */
export interface PlannedRun {
  readonly group: 'mjpeg' | 'flv' | 'slow' | 'maxn';
  readonly camera: 'vga25' | 'qvga4';
  readonly spec: ScenarioSpec;
}

/** Fraction of viewers that never read in the slow-viewer runs. */
export const STALLED_FRACTION = 0.1;
/** Calm and stalled slow-viewer runs are paired this many times, alternating, and compared by their medians. */
export const SLOW_PAIRS = 3;

/**
 * The runs, in order. At each N the targets alternate (relay first, then last at the next N), so a drift of the
 * machine during the bench does not always favour the same side.
 */
export function planRuns(options: BenchOptions): PlannedRun[] {
  const runs: PlannedRun[] = [];
  const base = { windowSeconds: options.windowSeconds, workers: options.workers, rampPerSecond: 1000, rssCapMiB: 3072 };
  const spec = (label: string, target: TargetKind, format: StreamFormat, viewers: number, flv: FlvSettings, extra: Partial<ScenarioSpec> = {}): ScenarioSpec =>
    ({ ...base, label, target, format, viewers, flv, joins: viewers === Math.min(...options.counts) ? options.joins : 0, ...extra });
  const ordered = (peers: TargetKind[], index: number): TargetKind[] => {
    const all = ['relay' as TargetKind, ...peers.filter((peer) => options.targets.includes(peer))];
    return index % 2 === 0 ? all : all.reverse();
  };
  if (options.groups.includes('mjpeg')) {
    options.counts.forEach((n, index) => {
      for (const target of ordered(['floor', 'mjpeg-proxy'], index)) {
        runs.push({ group: 'mjpeg', camera: 'vga25', spec: spec(`mjpeg-${target}-${n}`, target, 'mjpeg', n, FLV_VGA) });
      }
    });
  }
  if (options.groups.includes('flv')) {
    const counts = [...new Set([...options.counts, options.rssCount])].sort((a, b) => a - b);
    counts.forEach((n, index) => {
      for (const target of ordered(['floor', 'nms'], index)) {
        runs.push({ group: 'flv', camera: 'vga25', spec: spec(`flv-${target}-${n}`, target, 'flv', n, FLV_VGA) });
      }
    });
  }
  if (options.groups.includes('slow')) {
    const n = Math.min(...options.counts);
    const stalled = Math.round(n * STALLED_FRACTION);
    // A fair A/B: both sides without join timing, alternated so that drift on a shared machine hits both alike.
    for (const format of ['mjpeg', 'flv'] as const) {
      for (let pair = 0; pair < SLOW_PAIRS; pair++) {
        const calm = spec(`slow-${format}-calm-${n}-${pair}`, 'relay', format, n, FLV_VGA, { stalled: 0, joins: 0 });
        const stuck = spec(`slow-${format}-stalled-${n}-${pair}`, 'relay', format, n, FLV_VGA, { stalled, joins: 0 });
        for (const chosen of pair % 2 === 0 ? [calm, stuck] : [stuck, calm]) runs.push({ group: 'slow', camera: 'vga25', spec: chosen });
      }
    }
  }
  if (options.groups.includes('maxn')) {
    for (const n of options.maxnSteps) {
      runs.push({ group: 'maxn', camera: 'qvga4', spec: spec(`maxn-flv-relay-${n}`, 'relay', 'flv', n, FLV_QVGA, { joins: 0, rampPerSecond: 2000 }) });
    }
  }
  return runs;
}
