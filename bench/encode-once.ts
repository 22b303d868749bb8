// `npm run bench:encode`: CPU of one camera serving FLV alone vs FLV + HLS at equal video settings, appended to
// bench/RESULTS.md. The relay runs as its own process; its CPU and its ffmpeg children's are measured together.
// Options: --window 15 (seconds measured per run)  --pairs 3 (alternated FLV / FLV+HLS pairs)
import { readFileSync } from 'node:fs';
import { appendFile, mkdtemp, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { BenchCamera, makeJpegs } from './camera.ts';
import { sleep } from './clock.ts';
import { childPids, cpuSeconds, freePort, runBench, spawnTracked, stopTracked } from './procs.ts';

const relayBin = fileURLToPath(new URL('../relay/bin.mjs', import.meta.url));
const resultsFile = fileURLToPath(new URL('./RESULTS.md', import.meta.url));
const SETTINGS = '  VideoSize 640x480\n  VideoFrameRate 25\n  VideoBitRate 1000\n';

interface Run {
  readonly label: 'FLV' | 'FLV+HLS';
  readonly cpuPercent: number;
  readonly encoders: number;
  readonly ffmpegs: number;
}

/** Holds an FLV viewer open, reading and discarding. */
function flvViewer(port: number): () => void {
  const req = request({ host: '127.0.0.1', port, path: '/cam.flv' }, (response) => response.resume());
  req.on('error', () => {});
  req.end();
  return () => req.destroy();
}

/** An HLS client: the playlist every second and each new segment once, as a player would. */
function hlsClient(port: number): () => void {
  const seen = new Set<string>();
  let stopped = false;
  void (async () => {
    while (!stopped) {
      const playlist = await fetch(`http://127.0.0.1:${port}/cam.m3u8`).then((r) => r.text()).catch(() => '');
      for (const line of playlist.split('\n').filter((l) => l && !l.startsWith('#'))) {
        if (seen.has(line)) continue;
        seen.add(line);
        await fetch(`http://127.0.0.1:${port}/${line}`).then((r) => r.arrayBuffer()).catch(() => undefined);
      }
      await sleep(1000);
    }
  })();
  return () => (stopped = true);
}

async function measure(label: Run['label'], cameraUrl: string, windowSeconds: number): Promise<Run> {
  const port = await freePort();
  const dir = await mkdtemp(join(tmpdir(), 'relay-bench-encode-'));
  const hls = label === 'FLV+HLS' ? `<Stream cam.m3u8>\n  Feed cam\n${SETTINGS}</Stream>\n` : '';
  const config = join(dir, 'relay.conf');
  await writeFile(config, `HTTPPort ${port}\n<Camera cam>\n  Source ${cameraUrl}\n</Camera>\n<Stream cam.flv>\n  Feed cam\n${SETTINGS}</Stream>\n${hls}`);
  const relay = spawnTracked(process.execPath, [relayBin, '-c', config]);
  try {
    await sleep(2000);
    const stops = [flvViewer(port), ...(label === 'FLV+HLS' ? [hlsClient(port)] : [])];
    await sleep(4000);
    const pids = (): number[] => [relay.pid!, ...childPids(relay.pid!, 'ffmpeg')];
    const before = new Map(pids().map((pid) => [pid, cpuSeconds(pid)]));
    const started = Date.now();
    await sleep(windowSeconds * 1000);
    let used = 0;
    for (const pid of pids()) used += cpuSeconds(pid) - (before.get(pid) ?? cpuSeconds(pid));
    const ffmpegs = childPids(relay.pid!, 'ffmpeg');
    const encoders = ffmpegs.filter((pid) => cmdline(pid).includes('libx264')).length;
    for (const stop of stops) stop();
    return { label, cpuPercent: (used / ((Date.now() - started) / 1000)) * 100, encoders, ffmpegs: ffmpegs.length };
  } finally {
    await stopTracked(relay);
  }
}

function cmdline(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'latin1').replace(/\0/g, ' ');
  } catch {
    return '';
  }
}

const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

async function main(): Promise<void> {
  const { values } = parseArgs({ args: process.argv.slice(2), options: { window: { type: 'string', default: '15' }, pairs: { type: 'string', default: '3' } } });
  const windowSeconds = Number(values.window);
  const pairs = Number(values.pairs);
  const camera = new BenchCamera(await makeJpegs(640, 480), 25);
  await camera.start();
  const runs: Run[] = [];
  try {
    for (let pair = 0; pair < pairs; pair++) {
      // Alternate the order so a drift in the machine's load favours neither.
      const order: Array<Run['label']> = pair % 2 === 0 ? ['FLV', 'FLV+HLS'] : ['FLV+HLS', 'FLV'];
      for (const label of order) {
        const run = await measure(label, camera.url, windowSeconds);
        runs.push(run);
        process.stdout.write(`  ${label}: ${run.cpuPercent.toFixed(1)}% of a core, ${run.encoders} encoder(s), ${run.ffmpegs} ffmpeg process(es)\n`);
      }
    }
  } finally {
    await camera.stop();
  }
  const flv = median(runs.filter((run) => run.label === 'FLV').map((run) => run.cpuPercent));
  const both = median(runs.filter((run) => run.label === 'FLV+HLS').map((run) => run.cpuPercent));
  const argv = process.argv.slice(2);
  const text = [
    `\n## ${new Date().toISOString()}: encode once (FLV alone vs FLV + HLS at equal settings)`,
    '',
    `Command: \`npm run bench:encode${argv.length ? ` -- ${argv.join(' ')}` : ''}\``,
    `Machine: ${cpus().length} cores (${cpus()[0]?.model ?? '?'}), node ${process.version}. Camera: 640x480 JPEGs at 25 fps over HTTP from the bench process;`,
    `streams 640x480 25 fps 1000 kbit/s; one FLV viewer, plus one HLS client for FLV+HLS; CPU of the relay process and its ffmpeg children over ${windowSeconds} s, ${pairs} alternated pairs.`,
    '',
    '| run | CPU (% of a core) | encoders | ffmpeg processes |',
    '|---|---|---|---|',
    ...runs.map((run) => `| ${run.label} | ${run.cpuPercent.toFixed(1)} | ${run.encoders} | ${run.ffmpegs} |`),
    '',
    `Median FLV ${flv.toFixed(1)}%, FLV+HLS ${both.toFixed(1)}%: ratio **${(both / flv).toFixed(2)}x** (target at most 1.15x).`,
    '',
  ].join('\n');
  await appendFile(resultsFile, text);
  process.stdout.write(`${text}\nappended to ${resultsFile}\n`);
}

runBench(main);
