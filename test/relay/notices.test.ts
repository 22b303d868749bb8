import { readFile, writeFile } from 'node:fs/promises';
import t from 'tap';
import { parseConfig } from '../../conf/parse.ts';
import { hashPassword } from '../../lib/password.ts';
import { isLoopback, restartNeeded, securityNotices } from '../../relay/app/notices.ts';
import { fetchBytes } from '../helpers/probe.ts';
import { startTestRelay } from '../helpers/relay.ts';

const config = (text: string) => parseConfig(text, 'relay.conf', { schemes: ['testsrc'] }).config;

t.test('loopback is 127.0.0.0/8, ::1 and localhost, nothing else', async (t) => {
  for (const address of ['127.0.0.1', '127.8.9.10', '::1', '[::1]', 'localhost', '::ffff:127.0.0.1']) t.ok(isLoopback(address), address);
  for (const address of ['0.0.0.0', '::', '192.168.1.5', '10.0.0.1', 'camera.example']) t.notOk(isLoopback(address), address);
});

// Guards: a relay on 0.0.0.0 with no admin credentials, or taking Basic passwords over plain HTTP, started without a word.
t.test('exposure without admin credentials, and Basic over plain HTTP beyond loopback, are named', async (t) => {
  const hash = await hashPassword('pw', 1024);
  t.same(securityNotices(config('HTTPBindAddress 127.0.0.1\n')), [], 'loopback without credentials: fine (a proxy in front)');
  t.match(securityNotices(config('HTTPBindAddress 0.0.0.0\n')), [/^listening on 0\.0\.0\.0 \(beyond loopback\) with no AdminUser or AdminToken/]);
  t.match(securityNotices(config('RTSPPort 8554\nRTSPBindAddress 192.168.1.5\n')), [/^listening on 192\.168\.1\.5 \(beyond loopback\)/], 'the RTSP listener counts too');
  const basicOverPlain = securityNotices(config(`HTTPBindAddress 0.0.0.0\nAdminUser admin ${hash}\n`));
  t.equal(basicOverPlain.length, 1);
  t.match(basicOverPlain[0], /^AdminUser passwords are accepted by HTTP Basic over plain HTTP on 0\.0\.0\.0, .*set HTTPSPort and RedirectToHTTPS yes$/);
  t.same(securityNotices(config(`HTTPBindAddress 127.0.0.1\nAdminUser admin ${hash}\n`)), [], 'Basic on loopback: behind a TLS proxy');
});

t.test('restartNeeded lists the listener and start-time directives that changed, old and new value', async (t) => {
  const running = config('HTTPPort 8090\nRTSPPort 0\n');
  t.same(restartNeeded(running, config('HTTPPort 8090\nRTSPPort 0\nMaxClients 5\n')), [], 'a live directive needs no restart');
  t.same(restartNeeded(running, config('HTTPPort 8091\nRTSPPort 8554\nHTTPBindAddress 127.0.0.2\n')), ['HTTPPort 8090 -> 8091', 'HTTPBindAddress 127.0.0.1 -> 127.0.0.2', 'RTSPPort 0 -> 8554', 'RTSPBindAddress 127.0.0.1 -> 127.0.0.2']);
});

// Guards: changing RTSPPort and reloading logged only "reloaded: added nothing", and the port silently stayed shut.
t.test('a reload that changes a directive needing a restart says so in the log and on /stat.html', async (t) => {
  const relay = await startTestRelay('<Camera cam>\n  Source testsrc://?size=160x120&rate=5\n</Camera>\n<Stream stat.html>\n  Format status\n</Stream>\n');
  t.teardown(() => relay.stop());
  const before = (await fetchBytes(`${relay.baseUrl}/stat.html`)).body.toString();
  t.notMatch(before, /needs a restart/);
  await writeFile(relay.configFile, `RTSPPort 18554\nMaxProcesses 64\n${await readFile(relay.configFile, 'utf8')}`);
  await relay.reload();
  const warned = relay.logs.filter((line) => /needs a restart/.test(line));
  t.equal(warned.length, 2, warned.join('\n'));
  t.match(warned.join('\n'), /RTSPPort 0 -> 18554: needs a restart to take effect/);
  t.match(warned.join('\n'), /MaxProcesses 256 -> 64: needs a restart to take effect/);
  const page = (await fetchBytes(`${relay.baseUrl}/stat.html`)).body.toString();
  t.match(page, /<ul class="notices"><li>RTSPPort 0 -&gt; 18554: needs a restart to take effect; the running relay keeps the old value<\/li>/);
  const json = JSON.parse((await fetchBytes(`${relay.baseUrl}/stat.json`)).body.toString()) as { server: { notices: string[] } };
  t.equal(json.server.notices.length, 2);
});
