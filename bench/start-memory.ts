// The relay's memory at start, in one or more checkouts, run alternately:
//   node --import tsx bench/start-memory.ts [--runs 6] [--settle 8] DIR...
// For each DIR and run: (1) importing relay/app/main.ts under `node --expose-gc --import tsx`, RSS and heap after
// garbage collection; (2) the relay started as DIR's `npm start` starts it (its node flags and relay/bin.mjs) on
// relay.conf.example with its ports set to 0, VmRSS after --settle seconds. Medians at the end.
import { readFileSync, writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { execFileSync } from 'node:child_process';
import { sleep } from './clock.ts';
import { rssMiB, runBench, spawnTracked, stopTracked } from './procs.ts';

const IMPORT_PROBE = `
await import(new URL('./relay/app/main.ts', 'file://' + process.cwd() + '/').href);
await new Promise((done) => setTimeout(done, 200));
for (let i = 0; i < 3; i++) globalThis.gc();
const m = process.memoryUsage();
console.log(JSON.stringify({ rss: m.rss, heapUsed: m.heapUsed, heapTotal: m.heapTotal }));
process.exit(0);`;

const MIB = 1024 * 1024;

/** relay.conf.example with every fixed port at 0 (a free one), so that runs never collide with another relay. */
function portFreeConfig(dir: string, into: string): string {
  const text = readFileSync(join(dir, 'relay.conf.example'), 'utf8')
    .replace(/^HTTPPort \d+/m, 'HTTPPort 0')
    .replace(/^RTSPPort \d+/m, 'RTSPPort 0')
    .replace(/^WebRTCUDPPort \d+/m, 'WebRTCUDPPort 0');
  const file = join(into, `${Buffer.from(dir).toString('hex').slice(-16)}.conf`);
  writeFileSync(file, text);
  return file;
}

/** The node flags of DIR's `npm start` (what comes between `node` and `relay/bin.mjs`). */
function startFlags(dir: string): string[] {
  const start = (JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { scripts: { start: string } }).scripts.start;
  const words = start.split(/\s+/);
  return words.slice(1, words.indexOf('relay/bin.mjs'));
}

function importProbe(dir: string): { rss: number; heapUsed: number; heapTotal: number } {
  const out = execFileSync(process.execPath, ['--expose-gc', '--import', 'tsx', '--input-type=module', '-e', IMPORT_PROBE], { cwd: dir, encoding: 'utf8' });
  return JSON.parse(out.trim().split('\n').pop() ?? '{}') as { rss: number; heapUsed: number; heapTotal: number };
}

async function runningRelay(dir: string, config: string, settleSeconds: number): Promise<number> {
  const relay = spawnTracked(process.execPath, [...startFlags(dir), join(dir, 'relay/bin.mjs'), '-c', config], { cwd: dir, stdio: 'ignore' });
  await sleep(settleSeconds * 1000);
  const rss = relay.pid === undefined ? Number.NaN : rssMiB(relay.pid);
  await stopTracked(relay);
  return rss;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({ allowPositionals: true, options: { runs: { type: 'string', default: '6' }, settle: { type: 'string', default: '8' } } });
  const dirs = positionals.map((dir) => resolve(dir));
  const scratch = mkdtempSync(join(tmpdir(), 'start-memory-'));
  const results = new Map(dirs.map((dir) => [dir, { importRss: [] as number[], heapUsed: [] as number[], relayRss: [] as number[] }]));
  for (let run = 1; run <= Number(values.runs); run++) {
    for (const dir of dirs) {
      const probe = importProbe(dir);
      const relay = await runningRelay(dir, portFreeConfig(dir, scratch), Number(values.settle));
      const result = results.get(dir)!;
      result.importRss.push(probe.rss / MIB);
      result.heapUsed.push(probe.heapUsed / MIB);
      result.relayRss.push(relay);
      console.log(`run ${run} ${dir}: import RSS ${(probe.rss / MIB).toFixed(1)} MiB, heap used ${(probe.heapUsed / MIB).toFixed(1)} MiB; running relay (${startFlags(dir).join(' ') || 'no flags'}) VmRSS ${relay.toFixed(1)} MiB`);
    }
  }
  for (const [dir, result] of results) {
    const list = (values: number[]): string => values.map((value) => value.toFixed(1)).join(', ');
    console.log(`${dir}: import RSS ${list(result.importRss)} (median ${median(result.importRss).toFixed(1)}); heap used median ${median(result.heapUsed).toFixed(1)}; running relay ${list(result.relayRss)} (median ${median(result.relayRss).toFixed(1)})`);
  }
}

runBench(main);
