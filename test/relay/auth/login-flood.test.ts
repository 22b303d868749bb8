// Guards the login-flood stall: hundreds of parallel wrong Basic logins ran scrypt without bound, filled libuv's thread pool and stalled /vod/ file serving for seconds.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { hashPassword } from '../../../lib/password.ts';
import { basic, get } from '../../helpers/request.ts';
import { startTestRelay, syntheticConfig } from '../../helpers/relay.ts';

/**
 * The attacker, a separate process: PARALLEL loops of wrong Basic logins (a new password guess each time) to /stat.json for SECONDS, spread over
 * ADDRESSES, each loop sending its next request as soon as the previous one is answered (keep-alive). Prints the
 * count of each status when done.
 */
const ATTACKER = `
const http = require('node:http');
const [port, parallel, seconds] = process.argv.slice(1, 4).map(Number);
const addresses = process.argv[4].split(',');
const agent = new http.Agent({ keepAlive: true, maxSockets: Infinity });
const statuses = {};
const end = Date.now() + seconds * 1000;
let live = parallel;
function one(i) {
  if (Date.now() > end) {
    if (--live === 0) { console.log(JSON.stringify(statuses)); process.exit(0); }
    return;
  }
  const authorization = 'Basic ' + Buffer.from('admin:guess-' + Math.random()).toString('base64');
  const req = http.request({ host: '127.0.0.1', port, path: '/stat.json', headers: { authorization }, localAddress: addresses[i % addresses.length], agent }, (res) => {
    res.resume();
    res.on('end', () => { statuses[res.statusCode] = (statuses[res.statusCode] || 0) + 1; one(i); });
  });
  req.on('error', () => { statuses.error = (statuses.error || 0) + 1; setTimeout(() => one(i), 100); });
  req.end();
}
for (let i = 0; i < parallel; i++) one(i);
`;

const media = await mkdtemp(join(tmpdir(), 'relay-login-flood-'));
t.teardown(() => rm(media, { recursive: true, force: true }));
await writeFile(join(media, 'movie.mp4'), randomBytes(250 * 1024));
// The default scrypt cost, as `relay --hash-password` makes it: each check takes tens of ms of a pool thread.
const relay = await startTestRelay(`AdminUser admin ${await hashPassword('operator-pw')}\nMediaPath ${media}\n${syntheticConfig({ rate: 10 })}`);
t.teardown(() => relay.stop());
const access = relay.relay.access;

/** The slowest of `count` sequential fetches of the 250 KB file, ms. */
async function slowestFileFetch(count: number): Promise<number> {
  let slowest = 0;
  for (let i = 0; i < count; i++) {
    const answer = await get(`${relay.baseUrl}/vod/movie.mp4`, { localAddress: '127.0.0.1' });
    if (answer.status !== 200 || answer.body.length !== 250 * 1024) throw new Error(`/vod/movie.mp4 answered ${answer.status}, ${answer.body.length} bytes`);
    slowest = Math.max(slowest, answer.ms);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return slowest;
}

t.test('a wrong-password flood hashes a bounded number of passwords at once and does not stall file serving', async (t) => {
  const before = await slowestFileFetch(3);
  // 300 loops from one address and 100 spread over 10 more: one check at a time per address, 2 at once in all.
  const addresses = ['127.0.0.5', ...Array.from({ length: 10 }, (_, i) => `127.0.0.${20 + i}`)];
  const attacker = spawn(process.execPath, ['-e', ATTACKER, String(relay.port), '400', '8', addresses.join(',')], { stdio: ['ignore', 'pipe', 'inherit'] });
  t.teardown(() => attacker.kill());
  let report = '';
  attacker.stdout.on('data', (chunk: Buffer) => (report += chunk.toString()));
  const finished = new Promise<void>((resolve) => attacker.once('exit', () => resolve()));
  await new Promise((resolve) => setTimeout(resolve, 1500));

  let peakInFlight = 0;
  const sampler = setInterval(() => (peakInFlight = Math.max(peakInFlight, access.verifications.inFlight)), 5);
  t.teardown(() => clearInterval(sampler));
  const during = await slowestFileFetch(10);
  const operator = await get(`${relay.baseUrl}/stat.json`, { localAddress: '127.0.0.1', headers: { authorization: basic('admin', 'operator-pw') } });
  await finished;
  clearInterval(sampler);
  const statuses = JSON.parse(report || '{}') as Record<string, number>;

  t.ok(during < 5000, `slowest /vod/movie.mp4 during the flood: ${during} ms (before: ${before} ms)`);
  t.equal(operator.status, 200, `the operator's right password is still checked (${operator.ms} ms)`);
  t.ok(peakInFlight <= 1, `at most ${peakInFlight} password checks ran at once`);
  t.ok((statuses['429'] ?? 0) > 0, `answers to the attacker: ${JSON.stringify(statuses)}`);
  t.ok(access.verifications.refused > 0, `${access.verifications.refused} checks refused without hashing; ${access.failedLogins.total} wrong passwords hashed`);
  const metrics = await get(`${relay.baseUrl}/metrics`, { headers: { authorization: basic('admin', 'operator-pw') } });
  t.match(metrics.body.toString(), /relay_auth_checks_refused_total [1-9]/, 'counted on /metrics');
});
