// `npm run bench`: the relay against its peers on one machine, appended to bench/RESULTS.md.
// Options: --counts 500,2000  --rss-count 1000  --window 8  --workers 2  --groups mjpeg,flv,slow,maxn,latency
//          --latency-only FLV,MJPEG (the latency group's players whose label starts so; all when absent)
//          --targets relay,floor,mjpeg-proxy,nms  --maxn 1000,2000,4000,8000  --joins 60  --out bench/RESULTS.md
import { appendFile, mkdtemp } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { BenchCamera, makeJpegs } from './camera.ts';
import { latencySection } from './latency/run-latency.ts';
import { planRuns, STALLED_FRACTION, type BenchOptions } from './plan.ts';
import { openFileLimit, runBench } from './procs.ts';
import { capacityLines, holds, ratiosTable, resultsTable, targetsTable, type RunOutcome } from './report.ts';
import { runScenario } from './scenario.ts';
import type { TargetKind } from './targets.ts';

const list = (text: string): string[] => text.split(',').map((item) => item.trim()).filter(Boolean);
const numbers = (text: string): number[] => list(text).map(Number).filter((value) => Number.isInteger(value) && value > 0);

function readOptions(argv: string[]): BenchOptions {
  const { values } = parseArgs({
    args: argv,
    options: {
      counts: { type: 'string', default: '500,2000' },
      'rss-count': { type: 'string', default: '1000' },
      window: { type: 'string', default: '8' },
      workers: { type: 'string', default: '2' },
      groups: { type: 'string', default: 'mjpeg,flv,slow,maxn' },
      targets: { type: 'string', default: 'relay,floor,mjpeg-proxy,nms' },
      maxn: { type: 'string', default: '1000,2000,4000,8000' },
      joins: { type: 'string', default: '60' },
      out: { type: 'string', default: fileURLToPath(new URL('./RESULTS.md', import.meta.url)) },
      'latency-only': { type: 'string', default: '' },
    },
  });
  return {
    counts: numbers(values.counts),
    rssCount: Number(values['rss-count']),
    windowSeconds: Math.min(60, Math.max(1, Number(values.window))),
    workers: Math.min(8, Math.max(1, Number(values.workers))),
    groups: list(values.groups),
    targets: list(values.targets) as TargetKind[],
    maxnSteps: numbers(values.maxn),
    joins: Number(values.joins),
    out: values.out,
    latencyOnly: list(values['latency-only']),
  };
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const options = readOptions(argv);
  const runs = planRuns(options);
  const largest = Math.max(...runs.map((run) => run.spec.viewers));
  // Each viewer holds two fds (one in a worker, one in the server); each process has its own limit.
  const limit = openFileLimit();
  const perProcess = largest + 200;
  if (perProcess > limit) throw new Error(`open files limit ${limit} is below the ${perProcess} the largest run needs in the server; raise ulimit -n`);
  const logDir = await mkdtemp(join(tmpdir(), 'relay-bench-logs-'));
  if (options.groups.includes('latency')) {
    const section = await latencySection(argv, logDir, options.latencyOnly);
    await appendFile(options.out, section);
    process.stdout.write(`${section}\nappended to ${options.out}\n`);
  }
  if (runs.length === 0) return;
  process.stdout.write(`bench: ${runs.length} runs, open files limit ${limit} (largest run needs ~${2 * largest + 100} fds across server and load generator, ${perProcess} in one process); logs in ${logDir}\n`);
  const cameras = {
    vga25: new BenchCamera(await makeJpegs(640, 480), 25),
    qvga4: new BenchCamera(await makeJpegs(320, 240), 4),
  };
  for (const camera of Object.values(cameras)) await camera.start();
  const startedAt = Date.now();
  const outcomes: RunOutcome[] = [];
  let capacityReached = false;
  try {
    for (const run of runs) {
      if (run.group === 'maxn' && capacityReached) continue;
      process.stdout.write(`  ${run.spec.label} ... `);
      try {
        const result = await runScenario(run.spec, cameras[run.camera], logDir);
        outcomes.push({ run, result });
        process.stdout.write(`${result.open} open, ${(result.deliveredMB / result.seconds).toFixed(1)} MB/s, lag p99 ${result.lagP99.toFixed(1)} ms, `
          + `CPU ${result.cpuPercent.toFixed(0)}%, RSS ${result.rssMaxMiB.toFixed(0)} MiB${result.aborted ? ` (${result.aborted})` : ''}\n`);
        if (run.group === 'maxn' && !holds(result)) capacityReached = true;
      } catch (error) {
        outcomes.push({ run, error: (error as Error).message });
        process.stdout.write(`failed: ${(error as Error).message}\n`);
        if (run.group === 'maxn') capacityReached = true;
      }
    }
  } finally {
    for (const camera of Object.values(cameras)) await camera.stop();
  }
  const minutes = (Date.now() - startedAt) / 60_000;
  const text = [
    `\n## ${new Date().toISOString()}`,
    '',
    `Command: \`npm run bench${argv.length ? ` -- ${argv.join(' ')}` : ''}\` (${minutes.toFixed(1)} min)`,
    `Machine: ${cpus().length} cores (${cpus()[0]?.model ?? '?'}), node ${process.version}, open files limit ${openFileLimit()}; `
      + `load generator: ${options.workers} worker processes on the same machine; ${options.windowSeconds} s measured window per run after a 2 s warm-up.`,
    `Camera: 640x480 testsrc2 JPEGs of ${(cameras.vga25.meanFrameBytes / 1024).toFixed(1)} KiB at 25 fps (FLV: libx264 1000 kbit/s); `
      + `capacity runs 320x240 at 4 fps (FLV 256 kbit/s). Slow-viewer runs: ${STALLED_FRACTION * 100}% of viewers never read.`,
    '',
    '### Targets',
    '',
    targetsTable(outcomes, options.counts, options.rssCount),
    '',
    ...capacityLines(outcomes),
    '',
    '### Ratios (relay ÷ peer, same stream, same N)',
    '',
    ratiosTable(outcomes),
    '',
    '### Every run',
    '',
    resultsTable(outcomes),
    '',
  ].join('\n');
  await appendFile(options.out, text);
  process.stdout.write(`${text}\nappended to ${options.out}\n`);
}

runBench(main, ['SIGINT', 'SIGTERM']);
