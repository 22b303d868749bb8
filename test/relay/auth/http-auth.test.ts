import { connect } from 'node:net';
import t from 'tap';
import { hashPassword } from '../../../lib/password.ts';
import { signViewerToken } from '../../../relay/auth/viewer-token.ts';
import { prng } from '../../helpers/prng.ts';
import { basic, get } from '../../helpers/request.ts';
import { startTestRelay, syntheticConfig } from '../../helpers/relay.ts';

const SECRET = 'viewer-token-secret-0123456789abcdef';
const PASSWORD = 'admin-password-for-tests';
const ADMIN_TOKEN = 'prometheus-scrape-token-for-tests';
const config = `AdminUser admin ${await hashPassword(PASSWORD, 1024)}
AdminToken ${await hashPassword(ADMIN_TOKEN, 1024)}
ViewerTokenSecret ${SECRET}
DefaultAccess token
TrustProxy 127.0.0.9
${syntheticConfig({ rate: 10 }).replace('<Stream test.mjpg>', '<Stream test.mjpg>\n  Access public')}`;
const relay = await startTestRelay(config);
t.teardown(() => relay.stop());
const url = (path: string): string => `${relay.baseUrl}${path}`;
const admin = { authorization: basic('admin', PASSWORD) };
const inAnHour = (): number => Math.floor(Date.now() / 1000) + 3600;
const token = (scope: string, expiresAt = inAnHour()): string => signViewerToken(SECRET, scope, expiresAt);

t.test('the admin plane answers 401 with a challenge, and 200 to an admin', async (t) => {
  for (const path of ['/', '/stat.html', '/stat.json', '/metrics', '/api/anything', '/record/x', '/wall']) {
    const refused = await get(url(path));
    t.equal(refused.status, 401, `${path} without credentials`);
    t.match(String(refused.headers['www-authenticate']), /^Basic realm="relay admin"/, `${path}: Basic challenge`);
  }
  for (const path of ['/', '/stat.html', '/stat.json', '/metrics']) t.equal((await get(url(path), { headers: admin })).status, 200, `${path} as admin`);
  t.equal((await get(url('/metrics'), { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } })).status, 200, 'a script with the bearer token');
  t.equal((await get(url('/api/anything'), { headers: admin })).status, 404, 'an admin passes the guard to the (missing) route');
  t.equal((await get(url('/api/source/x'))).status, 404, 'the push gateway keeps its own scheme');
  t.equal((await get(url('/assets/player.js'))).status, 200, 'assets are open');
});

t.test('missing, wrong and malformed admin credentials are refused alike', async (t) => {
  const bad: Record<string, string> = {
    'wrong password': basic('admin', 'nope'),
    'unknown user': basic('root', PASSWORD),
    'empty password': basic('admin', ''),
    'no colon': `Basic ${Buffer.from('admin').toString('base64')}`,
    'not base64': 'Basic !!!***',
    'empty basic': 'Basic',
    'wrong bearer': 'Bearer not-the-token',
    'empty bearer': 'Bearer ',
    'other scheme': 'Digest username="admin"',
    'oversized': `Basic ${'A'.repeat(8000)}`,
    'password as bearer': `Bearer ${PASSWORD}`,
    'a viewer token': `Bearer ${token('stat.html')}`,
  };
  let address = 20;
  for (const [name, authorization] of Object.entries(bad)) {
    // Each case from its own address, so the slow-down of one does not add up across the cases.
    const answer = await get(url('/stat.json'), { headers: { authorization }, localAddress: `127.0.0.${address++}` });
    t.equal(answer.status, 401, name);
    t.notMatch(answer.body.toString(), /cameras|scrypt/, `${name}: nothing of the page`);
  }
});

t.test('a flood of bad logins from one address is slowed down and counted; others are not', async (t) => {
  const flood = '127.0.0.50';
  const times: number[] = [];
  for (let i = 0; i < 5; i++) times.push((await get(url('/stat.json'), { headers: { authorization: basic('admin', `guess-${i}`) }, localAddress: flood })).ms);
  t.ok(times[4]! >= 1500, `the fifth guess waited ${times[4]} ms (${times.join(', ')})`);
  t.ok(times[4]! > times[0]! + 1000, 'the delay grows');
  const other = await get(url('/stat.json'), { headers: admin, localAddress: '127.0.0.51' });
  t.equal(other.status, 200);
  t.ok(other.ms < 1500, `an admin elsewhere is not slowed (${other.ms} ms)`);
  const metrics = (await get(url('/metrics'), { headers: admin })).body.toString();
  const failures = Number(/relay_auth_failures_total\{plane="admin"\} (\d+)/.exec(metrics)?.[1]);
  t.ok(failures >= 5, `failures counted on /metrics (${failures})`);
  const lines = relay.logs.filter((line) => line.includes(`admin login refused from ${flood}`));
  t.equal(lines.length, 1, 'five failures, one log line (counts 1, 10, 100 ... are logged)');
  t.notMatch(relay.logs.join('\n'), /guess-/, 'no guessed password in the log');
});

t.test('viewer tokens: none 403, valid 200, expired 410, another stream\'s or edited 403', async (t) => {
  t.equal((await get(url('/test.flv'))).status, 403);
  const flv = await get(url(`/test.flv?token=${token('test.flv')}`), { maxBytes: 13 });
  t.equal(flv.status, 200);
  t.equal(flv.body.subarray(0, 3).toString(), 'FLV', 'FLV bytes');
  t.equal((await get(url(`/test.flv?token=${token('test.flv', Math.floor(Date.now() / 1000) - 5)}`))).status, 410, 'expired');
  t.equal((await get(url(`/test.flv?token=${token('test.m3u8')}`))).status, 403, 'a token of test.m3u8');
  const [expiry, signature] = token('test.flv', Math.floor(Date.now() / 1000) - 5).split('.');
  t.equal((await get(url(`/test.flv?token=${Number(expiry) + 7200}.${signature}`))).status, 403, 'an expired token with its expiry edited');
  for (const garbage of ['', 'x', '%00', 'a.b.c', `${token('test.flv')}x`, encodeURIComponent('<script>')]) {
    const answer = await get(url(`/test.flv?token=${garbage}`));
    t.equal(answer.status, 403, `token=${garbage}`);
    t.notMatch(answer.body.toString(), /<script>/, 'nothing echoed');
  }
  t.equal((await get(url(`/test.flv?token=a&token=${token('test.flv')}`))).status, 403, 'a repeated parameter is not a token');
  t.equal((await get(url('/test.flv'), { headers: { authorization: `Bearer ${token('test.flv')}` }, maxBytes: 3 })).status, 200, 'Authorization: Bearer');
  t.equal((await get(url('/test.flv'), { headers: { authorization: basic('viewer', token('test.flv')) }, maxBytes: 3 })).status, 200, 'Basic with the token as password');
  t.equal((await get(url('/test.flv'), { headers: admin, maxBytes: 3 })).status, 200, 'an admin watches any stream');
  t.equal((await get(url('/test.mjpg'), { maxBytes: 3 })).status, 200, 'an Access public stream needs nothing');
});

t.test('one HLS token covers the playlist, its segments and the player page, and nothing else', async (t) => {
  const hls = token('test.m3u8');
  t.equal((await get(url('/test.m3u8'))).status, 403);
  const playlist = await get(url(`/test.m3u8?token=${hls}`));
  t.equal(playlist.status, 200);
  t.match(String(playlist.headers['cache-control']), /^private\b/, 'a playlist carrying a viewer\'s token is not for shared caches');
  t.notMatch(String(playlist.headers['cache-control']), /public/);
  const segments = playlist.body.toString().split('\n').filter((line) => line && !line.startsWith('#'));
  t.ok(segments.length > 0, 'segments listed');
  for (const segment of segments) t.match(segment, new RegExp(`^test/[\\w.-]+\\.ts\\?token=${hls.replace('.', '\\.')}$`), 'the token carried on');
  const segment = segments.at(-1)!.split('?')[0]!;
  t.equal((await get(url(`/${segment}?token=${hls}`))).status, 200, 'a segment with the token');
  t.equal((await get(url(`/${segment}`))).status, 403, 'a segment without');
  t.equal((await get(url(`/${segment}?token=${token('test.m3u8', Math.floor(Date.now() / 1000) - 1)}`))).status, 410, 'a segment with an expired token');
  t.equal((await get(url(`/${segment}?token=${token('test.flv')}`))).status, 403, 'a segment with another stream\'s token');
  t.equal((await get(url(`/${segment.toUpperCase()}`))).status, 403, 'an upper-case spelling is guarded too');
  t.equal((await get(url('/player/test.m3u8'))).status, 403, 'the player page without');
  const page = await get(url(`/player/test.m3u8?token=${hls}`));
  t.equal(page.status, 200);
  t.match(page.body.toString(), `data-src="/test.m3u8?token=${hls}"`, 'the player plays the playlist with the token');
  t.match(page.body.toString(), `/player/test.m3u8?token=${hls}&amp;embed&quot;`, 'and offers itself as an iframe with it');
  // Guards against a token stream's state (live, or why not) being readable by anyone who guesses its name.
  t.equal((await get(url('/player/test.m3u8/state'))).status, 403, 'the stream\'s state without the token');
  t.match(page.body.toString(), `data-state-url="/player/test.m3u8/state?token=${hls}"`, 'the page asks for its state with the token');
  t.equal((await get(url(`/player/test.m3u8/state?token=${hls}`))).status, 200, 'and gets it');
});

await t.test('pages carry security headers; only the player may be framed', async (t) => {
  const page = await get(url('/stat.html'), { headers: admin });
  t.match(String(page.headers['content-security-policy']), /script-src 'self'.*frame-ancestors 'none'/);
  t.equal(page.headers['x-content-type-options'], 'nosniff');
  t.equal(page.headers['referrer-policy'], 'no-referrer');
  t.equal(page.headers['x-frame-options'], 'DENY');
  t.notMatch(page.body.toString(), /<script>|<script [^>]*>[^<]/, 'no inline script');
  const player = await get(url(`/player/test.m3u8?token=${token('test.m3u8')}`));
  t.match(String(player.headers['content-security-policy']), /script-src 'self'/);
  t.notMatch(String(player.headers['content-security-policy']), /frame-ancestors/, 'the player can be framed anywhere');
  t.equal(player.headers['x-frame-options'], undefined);
});

// The two long ones mostly wait (for a live viewer's bytes, for the delays after refused logins). Neither lets a viewer
// in nor fails a login from an address the other uses: they run side by side, after the slow-down timings above.
t.jobs = 2;

t.test('Host and X-Forwarded-For spoofing', async (t) => {
  for (const host of ['evil.example"><script>alert(1)</script>', 'a b', 'x'.repeat(300), 'host:port:x']) {
    const answer = await get(url('/assets/relay.css'), { headers: { host } });
    t.equal(answer.status, 400, `Host ${host.slice(0, 30)}`);
  }
  const socket = connect(relay.port, '127.0.0.1');
  socket.write('GET /assets/relay.css HTTP/1.0\r\n\r\n');
  const http10 = await new Promise<string>((resolve) => {
    let text = '';
    socket.on('data', (chunk) => (text += String(chunk)));
    socket.on('close', () => resolve(text));
  });
  t.match(http10, /^HTTP\/1\.1 200 /, 'an HTTP/1.0 request without Host is served');
  const hostile = await get(url(`/player/test.m3u8?token=${token('test.m3u8')}&"><script>alert(1)</script>`), { headers: { host: 'evil.example:1' } });
  t.equal(hostile.status, 200);
  t.notMatch(hostile.body.toString(), /<script>alert/, 'query text never comes back unescaped');
  const viewerAddress = async (localAddress: string, forwarded: string): Promise<string[]> => {
    const viewer = get(url(`/test.flv?token=${token('test.flv')}`), { localAddress, headers: { 'x-forwarded-for': forwarded }, maxBytes: 200_000 });
    await new Promise((resolve) => setTimeout(resolve, 500));
    const stat = JSON.parse((await get(url('/stat.json'), { headers: admin })).body.toString()) as { streams: Array<{ name: string; viewerList: Array<{ address: string }> }> };
    await viewer;
    return stat.streams.find((stream) => stream.name === 'test.flv')!.viewerList.map((entry) => entry.address);
  };
  t.same(await viewerAddress('127.0.0.30', '203.0.113.1'), ['127.0.0.30'], 'an untrusted peer cannot claim an address');
  t.same(await viewerAddress('127.0.0.9', '203.0.113.2'), ['203.0.113.2'], 'the trusted proxy names its client');
  t.same(await viewerAddress('127.0.0.9', '127.0.0.1, 203.0.113.3'), ['203.0.113.3'], 'a hop the client wrote itself is not believed');
});

t.test('random Authorization headers and tokens never get past the guard nor crash it', async (t) => {
  const random = prng(1717);
  const bytes = (length: number): string => Buffer.from(Array.from({ length }, () => 32 + Math.floor(random() * 95))).toString('latin1');
  const statuses = new Map<number, number>();
  for (let i = 0; i < 60; i++) {
    const scheme = ['Basic ', 'Bearer ', '', 'basic  ', 'BEARER\t'][i % 5]!;
    const value = i % 3 === 0 ? Buffer.from(bytes(1 + Math.floor(random() * 60))).toString('base64') : bytes(Math.floor(random() * 200));
    const address = `127.0.1.${(i % 200) + 1}`;
    const adminAnswer = await get(url('/stat.json'), { headers: { authorization: `${scheme}${value}` }, localAddress: address });
    const viewerAnswer = await get(url(`/test.flv?token=${encodeURIComponent(bytes(Math.floor(random() * 80)))}`), { headers: { authorization: `${scheme}${value}` }, localAddress: address, maxBytes: 3 });
    for (const answer of [adminAnswer, viewerAnswer]) statuses.set(answer.status, (statuses.get(answer.status) ?? 0) + 1);
  }
  t.same([...statuses.keys()].sort(), [401, 403], `only refusals: ${JSON.stringify([...statuses])}`);
  t.equal((await get(url('/stat.json'), { headers: admin })).status, 200, 'the relay is still up');
});
