// Relay CPU per delivered MB: N WebSocket viewers (/NAME.ws, raw mode, as the WebCodecs player) against N HTTP-FLV
// viewers of the same stream on one relay process, alternated in one run. Run by hand:
//   node --import tsx bench/ws.ts [viewers=500] [pairs=2] [windowSeconds=10]
import { loadavg } from 'node:os';
import { sleep } from './clock.ts';
import { LoadPool } from './loadgen/pool.ts';
import type { StreamFormat } from './loadgen/viewer.ts';
import { cpuSeconds } from './procs.ts';
import { configFile, runRelay } from '../test/helpers/relay-process.ts';

const viewers = Number(process.argv[2] ?? 500);
const pairs = Number(process.argv[3] ?? 2);
const windowMs = Number(process.argv[4] ?? 10) * 1000;
const WORKERS = 2;
const RAMP_MS = 3000;
const SETTLE_MS = 3000;

interface Run {
  readonly format: StreamFormat;
  readonly mb: number;
  readonly cpu: number;
  readonly framesPerViewerPerSecond: number;
  readonly open: number;
  readonly refused: number;
  readonly disconnects: number;
}

const relay = await runRelay(await configFile(`MaxClients 0
<Camera cam>
  Source testsrc://?size=640x480&rate=25
</Camera>
<Stream cam.flv>
  Feed cam
  VideoFrameRate 25
  VideoSize 640x480
  VideoBitRate 1000
</Stream>
`));
const pid = relay.child.pid!;
await sleep(4000);

async function measure(format: StreamFormat): Promise<Run> {
  const pool = new LoadPool(WORKERS);
  try {
    const path = format === 'ws' ? '/cam.flv.ws' : '/cam.flv';
    await pool.open({ port: relay.port(), path, format }, viewers, 0, RAMP_MS);
    await sleep(SETTLE_MS);
    pool.mark();
    const cpu0 = cpuSeconds(pid);
    await sleep(windowMs);
    const cpu = cpuSeconds(pid) - cpu0;
    const report = await pool.report();
    return {
      format,
      mb: report.bytes / 1e6,
      cpu,
      framesPerViewerPerSecond: report.frames / viewers / (windowMs / 1000),
      open: report.open,
      refused: report.refused,
      disconnects: report.disconnects,
    };
  } finally {
    await pool.stop();
    await sleep(1000);
  }
}

const runs: Run[] = [];
const loads: number[] = [loadavg()[0]!];
for (let pair = 0; pair < pairs; pair++) {
  // Alternate which goes first, so a drift in the machine's load falls on both.
  for (const format of pair % 2 === 0 ? (['flv', 'ws'] as const) : (['ws', 'flv'] as const)) {
    runs.push(await measure(format));
    loads.push(loadavg()[0]!);
  }
}
relay.child.kill('SIGTERM');
await relay.exited;

const msPerMb = (run: Run): number => (run.cpu * 1000) / run.mb;
console.log(`| run | viewers open | refused | disconnects | MB in ${windowMs / 1000} s | frames/viewer/s | relay CPU s | ms CPU per MB |`);
console.log('|---|---|---|---|---|---|---|---|');
runs.forEach((run, index) => console.log(`| ${index + 1} ${run.format === 'ws' ? 'WebSocket raw' : 'HTTP-FLV'} | ${run.open} | ${run.refused} | ${run.disconnects} | ${run.mb.toFixed(1)} | ${run.framesPerViewerPerSecond.toFixed(1)} | ${run.cpu.toFixed(2)} | ${msPerMb(run).toFixed(2)} |`));
const total = (format: StreamFormat): number => {
  const chosen = runs.filter((run) => run.format === format);
  return chosen.reduce((sum, run) => sum + run.cpu, 0) * 1000 / chosen.reduce((sum, run) => sum + run.mb, 0);
};
console.log(`\nover all windows: WebSocket ${total('ws').toFixed(2)} ms/MB, HTTP-FLV ${total('flv').toFixed(2)} ms/MB, ratio ${(total('ws') / total('flv')).toFixed(2)}x (target <= 1.1x)`);
console.log(`load average (1 min) at start and after each run: ${loads.map((load) => load.toFixed(1)).join(', ')}`);
process.exit(0);
