// `node --import tsx bench/idle-lockout.ts [--single 2000] [--spread 2000] [--reconnect-ms 0]`: whether idle
// connections lock out a new viewer or the operator. Against a relay process with default connection limits, one
// address holds SINGLE connections (half a request, then a header line every 5 s) and 50 addresses hold SPREAD more
// (not a byte sent); then new viewers from another address time their first frame and the operator loads /stat.html.
// Appends a section to bench/RESULTS.md.
import { appendFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { readdirSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { hashPassword } from '../lib/password.ts';
import { signViewerToken } from '../relay/auth/viewer-token.ts';
import { firstFrameMs, loopbackAddresses, startIdleFlood } from '../test/helpers/idle-flood.ts';
import { get } from '../test/helpers/request.ts';
import { sleep } from './clock.ts';
import { freePort, openFileLimit, runBench, spawnTracked } from './procs.ts';

const { values } = parseArgs({ options: { single: { type: 'string', default: '2000' }, spread: { type: 'string', default: '2000' }, 'reconnect-ms': { type: 'string', default: '0' } } });
const SINGLE = Math.min(5000, Number(values.single));
const SPREAD = Math.min(5000, Number(values.spread));
const RECONNECT_MS = Math.max(0, Number(values['reconnect-ms']));
const SECRET = 'bench-idle-lockout-secret-0123456789';
const root = fileURLToPath(new URL('../', import.meta.url));
const operator = { authorization: `Basic ${Buffer.from('admin:bench-admin').toString('base64')}` };

const metric = (text: string, name: string): number => Number(new RegExp(`^${name.replace(/[{}]/g, '\\$&')} (\\d+)`, 'm').exec(text)?.[1] ?? NaN);

async function main(): Promise<void> {
  if (openFileLimit() < SINGLE + SPREAD + 500) throw new Error(`ulimit -n is ${openFileLimit()}; raise it to at least ${SINGLE + SPREAD + 500}`);
  const dir = await mkdtemp(join(tmpdir(), 'relay-bench-idle-'));
  const port = await freePort();
  await writeFile(join(dir, 'relay.conf'), `HTTPPort ${port}\nAdminUser admin ${await hashPassword('bench-admin')}\nViewerTokenSecret ${SECRET}\nDefaultAccess token
<Camera test>\n  Source testsrc://?size=320x240&rate=25\n</Camera>
<Stream test.flv>\n  Feed test\n  VideoSize 320x240\n  VideoBitRate 300\n</Stream>
<Stream stat.html>\n  Format status\n</Stream>\n`);
  const relay = spawnTracked(process.execPath, [join(root, 'relay/bin.mjs'), '-c', join(dir, 'relay.conf')], { stdio: 'ignore' });
  const base = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 100; i++) {
    if ((await get(`${base}/stat.html`, { headers: operator }).then((answer) => answer.status, () => 0)) === 200) break;
    await sleep(200);
  }
  const flv = `${base}/test.flv?token=${signViewerToken(SECRET, 'test.flv', Math.floor(Date.now() / 1000) + 3600)}`;
  const calmFrame = await firstFrameMs(flv, '127.0.0.1', 20_000);

  const single = startIdleFlood(port, SINGLE, ['127.0.0.2'], { lineEveryMs: 5_000, reconnectMs: RECONNECT_MS });
  const spread = startIdleFlood(port, SPREAD, loopbackAddresses(10, 50), { lineEveryMs: 0, reconnectMs: RECONNECT_MS });
  await Promise.all([single.opened, spread.opened]);
  await sleep(2_000);
  const frames: number[] = [];
  const pages: Array<{ status: number; ms: number }> = [];
  for (let i = 0; i < 10; i++) {
    frames.push(await firstFrameMs(flv, '127.0.1.1').catch(() => NaN));
    pages.push(await get(`${base}/stat.html`, { localAddress: '127.0.0.1', headers: operator }).then((answer) => ({ status: answer.status, ms: answer.ms }), () => ({ status: 0, ms: NaN })));
    await sleep(200);
  }
  const metrics = (await get(`${base}/metrics`, { headers: operator })).body.toString();
  const fds = readdirSync(`/proc/${relay.pid}/fd`).length;
  const held = { single: single.held(), spread: spread.held() };
  single.stop();
  spread.stop();
  relay.kill('SIGTERM');
  await sleep(500);
  await rm(dir, { recursive: true, force: true });

  const sorted = [...frames].sort((a, b) => a - b);
  const text = [
    `\n## Idle connections against new viewers and the operator, ${new Date().toISOString()}`,
    '',
    `Command: \`node --import tsx bench/idle-lockout.ts --single ${SINGLE} --spread ${SPREAD} --reconnect-ms ${RECONNECT_MS}\`; ${cpus().length} cores, node ${process.version};`
      + ' the relay a separate process with default limits (MaxUnauthenticatedConnections 1000, MaxUnauthenticatedPerIP 100, RequestHeaderTimeout 10 s),'
      + ' DefaultAccess token, AdminUser, testsrc 320x240 25 fps, one FLV stream.',
    '',
    `Attack: ${SINGLE} connections from 127.0.0.2 (half a request, a header line every 5 s) and ${SPREAD} from 127.0.0.10-59 (nothing sent)`
      + `${RECONNECT_MS > 0 ? `, each reopened ${RECONNECT_MS} ms after the relay closes it` : ', never reopened'}; measured 2 s after all were opened.`,
    '',
    '| what | figure |',
    '| --- | --- |',
    `| first viewer, first FLV frame, before the attack (ms; includes starting the on-demand encoder) | ${calmFrame.toFixed(0)} |`,
    `| same during the attack, 10 viewers one after another: min / median / max (ms) | ${sorted[0]?.toFixed(0)} / ${sorted[5]?.toFixed(0)} / ${sorted.at(-1)?.toFixed(0)} |`,
    `| operator /stat.html during the attack: statuses; max ms | ${pages.map((page) => page.status).join(' ')}; ${Math.max(...pages.map((page) => page.ms)).toFixed(0)} |`,
    `| connections still open at the measurement: from 127.0.0.2 / from the 50 addresses | ${held.single} / ${held.spread} |`,
    `| relay: unauthenticated connections now; idle ones closed to let newer in; closed for no request | ${metric(metrics, 'relay_unauthenticated_connections')}; ${metric(metrics, 'relay_connections_closed_total{reason="evicted"}')}; ${metric(metrics, 'relay_connections_closed_total{reason="no_request"}')} |`,
    `| relay open file descriptors | ${fds} |`,
    '',
  ].join('\n');
  await appendFile(join(root, 'bench/RESULTS.md'), text);
  process.stdout.write(text);
}

runBench(main);
