import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { BenchCamera, makeJpegs } from '../../bench/camera.ts';
import { FLV_QVGA } from '../../bench/plan.ts';
import { killAll } from '../../bench/procs.ts';
import { runScenario, type ScenarioSpec } from '../../bench/scenario.ts';

// Guards the harness against rot: a few viewers for a few seconds must yield frames, lag figures and one camera connection.
const camera = new BenchCamera(await makeJpegs(320, 240), 10);
await camera.start();
const logDir = await mkdtemp(join(tmpdir(), 'relay-bench-smoke-'));
t.teardown(async () => {
  await camera.stop();
  killAll();
  await rm(logDir, { recursive: true, force: true });
});

const base = { viewers: 4, windowSeconds: 2, joins: 3, flv: FLV_QVGA, workers: 1, rampPerSecond: 50, rssCapMiB: 1024 };

for (const [target, format] of [['relay', 'mjpeg'], ['floor', 'mjpeg'], ['relay', 'flv']] as const) {
  t.test(`${format} through the ${target}`, { timeout: 30_000 }, async (t) => {
    const spec: ScenarioSpec = { ...base, label: `smoke-${format}-${target}`, target, format };
    const result = await runScenario(spec, camera, logDir);
    t.equal(result.open, 4, 'every viewer is open at the end');
    t.equal(result.refused, 0);
    t.ok(result.framesPerViewerPerSecond > 0, `frames arrive (${result.framesPerViewerPerSecond.toFixed(1)} per viewer per second)`);
    t.ok(result.lagSamples > 0 && Number.isFinite(result.lagP50) && Number.isFinite(result.lagP99), `lag p50 ${result.lagP50} p99 ${result.lagP99} ms`);
    t.ok(result.lagP99 >= result.lagP50 && result.lagMax >= result.lagP99, 'lag percentiles are ordered');
    t.equal(result.cameraConnections, 1, 'one upstream connection to the camera');
    t.ok(result.deliveredMB > 0 && Number.isFinite(result.cpuSecondsPerMB), 'CPU per MB is computed');
    t.ok(result.rssMaxMiB > 10, `server RSS is read from /proc (${result.rssMaxMiB.toFixed(0)} MiB)`);
    t.ok(result.ttffJoins > 0 && Number.isFinite(result.ttffMedian), `time to first frame measured (${result.ttffMedian.toFixed(1)} ms)`);
    if (format === 'flv') t.ok(result.ffmpegCpuPercent > 0, 'the transcoding ffmpeg is found and measured');
  });
}
