// `node --import tsx bench/auth.ts [--sockets 2000] [--seconds 10]`: what authentication and connection hygiene cost
// and what they protect, against a relay process: a viewer's frame gaps while slowloris sockets arrive, the relay's
// open sockets, and the price of an admin login and of a viewer token check. Appends a section to bench/RESULTS.md.
import { appendFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { readdirSync } from 'node:fs';
import { request } from 'node:http';
import { connect, type Socket } from 'node:net';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { hashPassword } from '../lib/password.ts';
import { checkViewerToken, signViewerToken } from '../relay/auth/viewer-token.ts';
import { sleep } from './clock.ts';
import { freePort, runBench, spawnTracked } from './procs.ts';

const { values } = parseArgs({ options: { sockets: { type: 'string', default: '2000' }, seconds: { type: 'string', default: '10' } } });
const SOCKETS = Math.min(5000, Number(values.sockets));
const SECONDS = Math.min(60, Number(values.seconds));
const SECRET = 'bench-viewer-token-secret-0123456789';
const root = fileURLToPath(new URL('../', import.meta.url));

const percentile = (sorted: number[], p: number): number => sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))] ?? NaN;

/** Gaps between the chunks a live FLV viewer receives, ms, over `seconds`. */
function watchGaps(url: string, seconds: number): Promise<number[]> {
  return new Promise((resolve, reject) => {
    const arrivals: number[] = [];
    const req = request(url, { agent: false }, (response) => response.on('data', () => arrivals.push(performance.now())));
    req.on('error', reject);
    req.end();
    setTimeout(() => {
      req.destroy();
      resolve(arrivals.slice(1).map((at, i) => at - arrivals[i]!).sort((a, b) => a - b));
    }, seconds * 1000);
  });
}

/** Median time of `runs` sequential GETs, ms. */
async function timeRequests(url: string, headers: Record<string, string>, runs: number): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    await new Promise<void>((resolve, reject) => {
      const req = request(url, { headers, agent: false }, (response) => {
        response.resume();
        response.on('end', resolve);
      });
      req.on('error', reject);
      req.end();
    });
    times.push(performance.now() - start);
  }
  return times.sort((a, b) => a - b)[Math.floor(runs / 2)]!;
}

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'relay-bench-auth-'));
  const port = await freePort();
  const passwordHash = await hashPassword('bench-admin');
  await writeFile(join(dir, 'relay.conf'), `HTTPPort ${port}\nAdminUser admin ${passwordHash}\nViewerTokenSecret ${SECRET}
<Camera test>\n  Source testsrc://?size=320x240&rate=25\n</Camera>
<Stream test.flv>\n  Feed test\n  VideoSize 320x240\n  VideoBitRate 300\n</Stream>
<Stream test.jpg>\n  Feed test\n  Access token\n</Stream>
<Stream open.jpg>\n  Feed test\n</Stream>\n`);
  const relay = spawnTracked(process.execPath, [join(root, 'relay/bin.mjs'), '-c', join(dir, 'relay.conf')]);
  const base = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 100; i++) {
    if (await timeRequests(`${base}/open.jpg`, {}, 1).then(() => true, () => false)) break;
    await sleep(200);
  }
  const fds = (): number => readdirSync(`/proc/${relay.pid}/fd`).length;

  const calm = await watchGaps(`${base}/test.flv`, SECONDS);
  const sockets: Socket[] = [];
  let peakFds = fds();
  const sampler = setInterval(() => (peakFds = Math.max(peakFds, fds())), 100);
  const attacked = watchGaps(`${base}/test.flv`, SECONDS);
  await sleep(1000);
  for (let i = 0; i < SOCKETS; i++) {
    const socket = connect({ host: '127.0.0.1', port, localAddress: `127.0.1.${1 + (i % 200)}` });
    socket.on('error', () => {});
    socket.on('connect', () => socket.write('GET /test.flv HTTP/1.1\r\nHost: x\r\n'));
    sockets.push(socket);
    if (i % 200 === 199) await sleep(10);
  }
  const underAttack = await attacked;
  clearInterval(sampler);
  sockets.forEach((socket) => socket.destroy());

  const basic = { authorization: `Basic ${Buffer.from('admin:bench-admin').toString('base64')}` };
  const firstLogin = await timeRequests(`${base}/stat.json`, basic, 1);
  const cachedLogin = await timeRequests(`${base}/stat.json`, basic, 21);
  const token = signViewerToken(SECRET, 'test.jpg', Math.floor(Date.now() / 1000) + 600);
  const publicJpeg = await timeRequests(`${base}/open.jpg`, {}, 41);
  const tokenJpeg = await timeRequests(`${base}/test.jpg?token=${token}`, {}, 41);
  const checks = 200_000;
  const start = performance.now();
  for (let i = 0; i < checks; i++) checkViewerToken(SECRET, 'test.jpg', token);
  const perCheckUs = ((performance.now() - start) * 1000) / checks;
  relay.kill('SIGTERM');
  await sleep(500);
  await rm(dir, { recursive: true, force: true });

  const row = (name: string, gaps: number[]): string =>
    `| ${name} | ${gaps.length} | ${percentile(gaps, 50).toFixed(0)} | ${percentile(gaps, 99).toFixed(0)} | ${(gaps.at(-1) ?? NaN).toFixed(0)} |`;
  const text = [
    `\n## Authentication and connection hygiene, ${new Date().toISOString()}`,
    '',
    `Command: \`node --import tsx bench/auth.ts --sockets ${SOCKETS} --seconds ${SECONDS}\`; ${cpus().length} cores, node ${process.version}; the relay`
      + ' a separate process with default limits (MaxUnauthenticatedConnections 1000, RequestHeaderTimeout 10 s), the built-in testsrc camera at 320x240, 25 fps, one FLV stream at 300 kbit/s.',
    '',
    '| one FLV viewer, gaps between received chunks (ms) | chunks | p50 | p99 | max |',
    '| --- | --- | --- | --- | --- |',
    row(`calm, ${SECONDS} s`, calm),
    row(`${SOCKETS} slowloris sockets from 200 addresses opened after 1 s`, underAttack),
    '',
    `Relay open file descriptors at most ${peakFds} during the attack (sampled every 100 ms).`,
    `Admin request (/stat.json, Basic): ${firstLogin.toFixed(1)} ms the first time (scrypt N=16384), median ${cachedLogin.toFixed(1)} ms once verified (cached a minute).`,
    `Snapshot request: median ${publicJpeg.toFixed(2)} ms public, ${tokenJpeg.toFixed(2)} ms with a viewer token; one token check ${perCheckUs.toFixed(2)} µs in-process.`,
    '',
  ].join('\n');
  await appendFile(join(root, 'bench/RESULTS.md'), text);
  process.stdout.write(text);
}

runBench(main);
