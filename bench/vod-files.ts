// Bench: many viewers downloading one large file from the relay's /vod/ and from Debian's nginx, one after the other
// on the same machine, measured over a fixed window while all of them download (a 200 MB file outlasts it). Reports
// aggregate throughput (and the relay/nginx ratio), RSS over idle RSS, and CPU seconds per GB.
// Run: npm run bench:vod -- [--viewers 100] [--mb 200] [--window 15] [--rounds 1] (needs Debian's nginx)
import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { get } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { sleep } from './clock.ts';
import { cpuSeconds, freePort, killAll, rssMiB, spawnTracked, stopTracked } from './procs.ts';

const ROOT = join(import.meta.dirname, '..');
const { values } = parseArgs({ options: { viewers: { type: 'string', default: '100' }, mb: { type: 'string', default: '200' }, rounds: { type: 'string', default: '1' }, window: { type: 'string', default: '15' } } });
const windowSeconds = Number(values.window);
const WARMUP_MS = 2000;
const viewers = Number(values.viewers);
const fileMb = Number(values.mb);
const rounds = Number(values.rounds);

interface RunResult {
  target: string;
  seconds: number;
  gbps: number;
  idleRssMiB: number;
  peakRssMiB: number;
  cpuPerGb: number;
  failures: number;
}

/** Writes a file of random bytes (incompressible, as video is), 1 MiB at a time. */
async function makeFile(path: string, mb: number): Promise<void> {
  const out = createWriteStream(path);
  for (let i = 0; i < mb; i++) if (!out.write(randomBytes(1024 * 1024))) await new Promise<void>((resolve) => out.once('drain', () => resolve()));
  await new Promise<void>((resolve) => out.end(resolve));
}

/** Downloads of one run: bytes counted as they arrive, every request stoppable at the window's end. */
class Downloads {
  bytes = 0;
  failures = 0;
  completed = 0;
  private readonly requests: Array<ReturnType<typeof get>> = [];

  /** Starts a download that restarts when it completes, so the audience stays the same size over the window. */
  start(url: string, expected: number): void {
    const request = get(url, { agent: false }, (response) => {
      let own = 0;
      response.on('data', (chunk: Buffer) => {
        own += chunk.length;
        this.bytes += chunk.length;
      });
      response.on('end', () => {
        if (response.statusCode !== 200 || own !== expected) this.failures++;
        else this.completed++;
        if (!this.stopped) this.start(url, expected);
      });
      response.on('error', () => {});
    });
    request.on('error', () => {
      if (!this.stopped) this.failures++;
    });
    this.requests.push(request);
  }

  stopped = false;
  stop(): void {
    this.stopped = true;
    for (const request of this.requests) request.destroy();
  }
}

async function waitForHttp(url: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    const ok = await new Promise<boolean>((resolve) => get(url, (r) => { r.resume(); resolve(true); }).on('error', () => resolve(false)));
    if (ok) return;
    await sleep(50);
  }
  throw new Error(`${url} never answered`);
}

async function measure(target: string, pid: number, url: string, size: number): Promise<RunResult> {
  await waitForHttp(url);
  await sleep(1000);
  const idleRssMiB = rssMiB(pid);
  let peakRssMiB = idleRssMiB;
  const sampler = setInterval(() => (peakRssMiB = Math.max(peakRssMiB, rssMiB(pid))), 100);
  const downloads = new Downloads();
  for (let i = 0; i < viewers; i++) downloads.start(url, size);
  await sleep(WARMUP_MS);
  const cpuBefore = cpuSeconds(pid);
  const bytesBefore = downloads.bytes;
  const started = performance.now();
  await sleep(windowSeconds * 1000);
  const bytes = downloads.bytes - bytesBefore;
  const seconds = (performance.now() - started) / 1000;
  const cpu = cpuSeconds(pid) - cpuBefore;
  downloads.stop();
  clearInterval(sampler);
  return { target, seconds, gbps: (bytes * 8) / seconds / 1e9, idleRssMiB, peakRssMiB, cpuPerGb: cpu / (bytes / 1e9), failures: downloads.failures };
}

async function runRelay(dir: string, size: number): Promise<RunResult> {
  const port = await freePort();
  await writeFile(join(dir, 'relay.conf'), `HTTPPort ${port}\nMaxClients 0\nMediaPath ${join(dir, 'media')}\n`);
  const child = spawnTracked(process.execPath, [join(ROOT, 'relay/bin.mjs'), '-c', join(dir, 'relay.conf')], { cwd: ROOT });
  try {
    return await measure('relay', child.pid!, `http://127.0.0.1:${port}/vod/big.bin`, size);
  } finally {
    await stopTracked(child);
  }
}

async function runNginx(dir: string, size: number): Promise<RunResult> {
  const port = await freePort();
  const prefix = join(dir, 'nginx');
  await mkdir(join(prefix, 'logs'), { recursive: true });
  // One worker: the relay is one Node process, so both get one core's worth of server.
  await writeFile(join(prefix, 'nginx.conf'), `daemon off; master_process off; worker_processes 1; pid ${prefix}/nginx.pid;
error_log ${prefix}/logs/error.log warn; events { worker_connections 1024; }
http { access_log off; sendfile on; tcp_nopush on; client_body_temp_path ${prefix}; proxy_temp_path ${prefix};
  fastcgi_temp_path ${prefix}; uwsgi_temp_path ${prefix}; scgi_temp_path ${prefix};
  server { listen 127.0.0.1:${port}; location /vod/ { alias ${join(dir, 'media')}/; } } }
`);
  const child = spawnTracked('nginx', ['-p', prefix, '-c', join(prefix, 'nginx.conf')]);
  try {
    return await measure('nginx', child.pid!, `http://127.0.0.1:${port}/vod/big.bin`, size);
  } finally {
    await stopTracked(child);
  }
}

process.on('exit', killAll);
const dir = await mkdtemp(join(tmpdir(), 'relay-bench-vod-'));
try {
  await mkdir(join(dir, 'media'));
  await makeFile(join(dir, 'media', 'big.bin'), fileMb);
  const size = fileMb * 1024 * 1024;
  const results: RunResult[] = [];
  for (let round = 0; round < rounds; round++) {
    // Alternate the order so that neither always runs with a warmer page cache.
    const order = round % 2 === 0 ? [runRelay, runNginx] : [runNginx, runRelay];
    for (const run of order) results.push(await run(dir, size));
  }
  for (const r of results) {
    console.log(`${r.target}: ${viewers} viewers of a ${fileMb} MiB file, ${r.seconds.toFixed(1)} s window: ${r.gbps.toFixed(2)} Gbit/s; RSS idle ${r.idleRssMiB.toFixed(0)} MiB, peak ${r.peakRssMiB.toFixed(0)} MiB (+${(r.peakRssMiB - r.idleRssMiB).toFixed(0)}); ${r.cpuPerGb.toFixed(2)} CPU s/GB; ${r.failures} failed`);
  }
  const mean = (target: string) => {
    const own = results.filter((r) => r.target === target);
    return own.reduce((sum, r) => sum + r.gbps, 0) / own.length;
  };
  console.log(`throughput ratio relay/nginx: ${(mean('relay') / mean('nginx')).toFixed(2)}`);
} finally {
  await rm(dir, { recursive: true, force: true });
}
