import { now, sleep, waitUntil } from './clock.ts';
import type { BenchCamera } from './camera.ts';
import { percentile } from './histogram.ts';
import { LoadPool } from './loadgen/pool.ts';
import { RawViewer, type StreamFormat, type StreamTarget } from './loadgen/viewer.ts';
import { cpuSeconds, rssMiB } from './procs.ts';
import { startTarget, type FlvSettings, type RunningTarget, type TargetKind } from './targets.ts';

/** One measured run: one target, one stream, N viewers. */
export interface ScenarioSpec {
  readonly label: string;
  readonly target: TargetKind;
  readonly format: StreamFormat;
  readonly viewers: number;
  /** Viewers among `viewers` that never read a byte. */
  readonly stalled?: number;
  readonly windowSeconds: number;
  /** Sequential joins measured for time to first frame during the window (0: none). */
  readonly joins?: number;
  readonly flv: FlvSettings;
  readonly workers: number;
  readonly rampPerSecond: number;
  /** The run is cut short when the target's RSS passes this (a server that queues without bound). */
  readonly rssCapMiB: number;
}

/** Every figure of one run; CPU and RSS are those of the serving node process alone. */
export interface ScenarioResult {
  readonly spec: ScenarioSpec;
  readonly open: number;
  readonly refused: number;
  readonly disconnects: number;
  readonly seconds: number;
  readonly deliveredMB: number;
  readonly framesPerViewerPerSecond: number;
  readonly lagP50: number;
  readonly lagP99: number;
  readonly lagMax: number;
  readonly lagSamples: number;
  readonly cutFrames: number;
  readonly cpuPercent: number;
  readonly cpuSecondsPerMB: number;
  readonly ffmpegCpuPercent: number;
  readonly loadgenCpuPercent: number;
  readonly benchCpuPercent: number;
  readonly rssMaxMiB: number;
  readonly rssMeanMiB: number;
  readonly cameraConnections: number;
  readonly ttffMedian: number;
  readonly ttffP95: number;
  readonly ttffJoins: number;
  readonly aborted: string | undefined;
}

const FIRST_FRAME_TIMEOUT_MS = 30_000;
const WARMUP_MS = 2_000;

/** Runs one scenario against a camera and returns its figures; every process it started is stopped on return. */
export async function runScenario(spec: ScenarioSpec, camera: BenchCamera, logDir: string): Promise<ScenarioResult> {
  await waitUntil(() => camera.clients.size === 0, 5_000);
  camera.resetCounters();
  const target = await startTarget(spec.target, spec.format, camera.url, spec.flv, logDir);
  const pool = new LoadPool(spec.workers);
  const reference = new ReferenceViewer({ port: target.port, path: target.path, format: spec.format }, pool);
  try {
    if (!(await waitUntil(() => reference.frames > 0, FIRST_FRAME_TIMEOUT_MS))) {
      throw new Error(`${spec.label}: no frame from ${spec.target} within ${FIRST_FRAME_TIMEOUT_MS} ms`);
    }
    const rampMs = (1000 * spec.viewers) / spec.rampPerSecond;
    await pool.open({ port: target.port, path: target.path, format: spec.format }, spec.viewers, spec.stalled ?? 0, rampMs);
    await sleep(WARMUP_MS);
    return await measure(spec, camera, target, pool);
  } finally {
    reference.close();
    await pool.stop();
    await target.stop();
  }
}

async function measure(spec: ScenarioSpec, camera: BenchCamera, target: RunningTarget, pool: LoadPool): Promise<ScenarioResult> {
  const ffmpegPid = target.ffmpegPid();
  const loadPids = pool.pids;
  const cpuOf = (): { target: number; ffmpeg: number; load: number; bench: number } => ({
    target: cpuSeconds(target.pid),
    ffmpeg: ffmpegPid === undefined ? NaN : cpuSeconds(ffmpegPid),
    load: loadPids.reduce((sum, pid) => sum + cpuSeconds(pid), 0),
    bench: process.cpuUsage().user / 1e6 + process.cpuUsage().system / 1e6,
  });
  pool.mark();
  const startedAt = now();
  const cpuStart = cpuOf();
  const rss: number[] = [];
  let aborted: string | undefined;
  const windowEnd = startedAt + spec.windowSeconds * 1000;
  const joinTarget: StreamTarget = { port: target.port, path: target.path, format: spec.format };
  // Joins start only within the window: a server without a keyframe cache makes each one wait for the next keyframe.
  const joining = measureJoins(joinTarget, spec.joins ?? 0, () => aborted !== undefined || now() > windowEnd);
  while (now() < windowEnd && aborted === undefined) {
    await sleep(250);
    const sample = rssMiB(target.pid);
    if (Number.isNaN(sample)) aborted = `${spec.target} exited during the window`;
    else rss.push(sample);
    if (sample > spec.rssCapMiB) aborted = `RSS passed ${spec.rssCapMiB} MiB after ${((now() - startedAt) / 1000).toFixed(1)} s`;
  }
  const cpuEnd = cpuOf();
  const seconds = (now() - startedAt) / 1000;
  const load = await pool.report();
  const joins = await joining;
  const percent = (key: keyof typeof cpuEnd): number => (100 * (cpuEnd[key] - cpuStart[key])) / seconds;
  const deliveredMB = load.bytes / 1e6;
  const readers = Math.max(1, load.open - (spec.stalled ?? 0));
  return {
    spec,
    open: load.open,
    refused: load.refused,
    disconnects: load.disconnects,
    seconds,
    deliveredMB,
    framesPerViewerPerSecond: load.frames / readers / seconds,
    lagP50: load.lag.quantile(0.5),
    lagP99: load.lag.quantile(0.99),
    lagMax: load.lag.max,
    lagSamples: load.lag.count,
    cutFrames: load.cutFrames,
    cpuPercent: percent('target'),
    cpuSecondsPerMB: (cpuEnd.target - cpuStart.target) / deliveredMB,
    ffmpegCpuPercent: percent('ffmpeg'),
    loadgenCpuPercent: percent('load'),
    benchCpuPercent: percent('bench'),
    rssMaxMiB: Math.max(...rss),
    rssMeanMiB: rss.reduce((sum, value) => sum + value, 0) / Math.max(1, rss.length),
    cameraConnections: camera.accepted,
    ttffMedian: percentile(joins, 0.5),
    ttffP95: percentile(joins, 0.95),
    ttffJoins: joins.length,
    aborted,
  };
}

/** Joins one viewer at a time and times its first whole frame; returns the times in ms. */
async function measureJoins(target: StreamTarget, count: number, cancelled: () => boolean): Promise<number[]> {
  const times: number[] = [];
  for (let index = 0; index < count && !cancelled(); index++) {
    const startedAt = now();
    let firstAt = 0;
    const viewer = new RawViewer(target, { onFrame: (_key, at) => (firstAt ||= at) });
    await waitUntil(() => firstAt > 0 || viewer.ended, 5_000, 2);
    viewer.close();
    if (firstAt > 0) times.push(firstAt - startedAt);
    await sleep(50);
  }
  return times;
}

/**
 * A viewer in the bench process, joined first: its frames prove the stream is up, and for FLV its arrival time of each
 * tag is the reference the workers' viewers are measured against (FLV carries no camera stamp).
 */
class ReferenceViewer {
  frames = 0;
  private readonly viewer: RawViewer;
  private batch: Array<[number, number]> = [];
  private readonly timer: NodeJS.Timeout;

  constructor(target: StreamTarget, pool: LoadPool) {
    this.viewer = new RawViewer(target, {
      onFrame: (key, at) => {
        this.frames++;
        if (target.format === 'flv') this.batch.push([key, at]);
      },
    });
    this.timer = setInterval(() => {
      pool.reference(this.batch);
      this.batch = [];
    }, 50);
  }

  close(): void {
    clearInterval(this.timer);
    this.viewer.close();
  }
}
