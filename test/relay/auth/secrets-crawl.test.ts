import t from 'tap';
import { hashPassword } from '../../../lib/password.ts';
import { unusedPort } from '../../helpers/ports.ts';
import { waitFor } from '../../helpers/probe.ts';
import { basic, get } from '../../helpers/request.ts';
import { startTestRelay, syntheticConfig } from '../../helpers/relay.ts';

const CAMERA_PASSWORD = 'cam-pass-Zq81x';
const RTSP_PASSWORD = 'rtsp-pass-Kd02w';
const ADMIN_PASSWORD = 'admin-pass-Hy71v';
const ADMIN_TOKEN = 'admin-token-Pw93c';
const TOKEN_SECRET = 'token-secret-Mx55b-0123456789abcdefghij';
const userHash = await hashPassword(ADMIN_PASSWORD, 1024);
const tokenHash = await hashPassword(ADMIN_TOKEN, 1024);
const deadPort = await unusedPort();
const relay = await startTestRelay(`AdminUser admin ${userHash}
AdminToken ${tokenHash}
ViewerTokenSecret ${TOKEN_SECRET}
DefaultAccess token
${syntheticConfig({ rate: 10 })}
<Camera door>
  Source http://door:${CAMERA_PASSWORD}@127.0.0.1:${deadPort}/video.mjpg
  ConnectTimeout 1
</Camera>
<Stream door.mjpg>
  Feed door
</Stream>
<Camera yard>
  Source rtsp://127.0.0.1:${deadPort}/stream
  Username yard
  Password ${RTSP_PASSWORD}
  ConnectTimeout 1
</Camera>
<Stream yard.jpg>
  Feed yard
</Stream>
`);
t.teardown(() => relay.stop());

const SECRETS: Record<string, string> = {
  'camera password in the URL': CAMERA_PASSWORD,
  'camera Password directive': RTSP_PASSWORD,
  'admin password': ADMIN_PASSWORD,
  'admin token': ADMIN_TOKEN,
  'viewer token secret': TOKEN_SECRET,
  'admin password hash': userHash.split('$').pop()!,
  'admin password salt': userHash.split('$')[4]!,
  'admin token hash': tokenHash.split('$').pop()!,
  scrypt: '$scrypt$',
};

t.test('a full crawl as admin, the error paths and the log show no secret', async (t) => {
  const admin = { authorization: basic('admin', ADMIN_PASSWORD) };
  // Both cameras fail, so their errors are on the pages too.
  await waitFor(async () => /"lastError":\{/.test((await get(`${relay.baseUrl}/stat.json`, { headers: admin })).body.toString()), 15_000, 'camera errors');
  const seen = new Map<string, string>();
  const queue = ['/', '/stat.json', '/metrics'];
  while (queue.length > 0 && seen.size < 200) {
    const path = queue.shift()!;
    if (seen.has(path)) continue;
    const answer = await get(`${relay.baseUrl}${path}`, { headers: admin, maxBytes: 64 * 1024, readMs: 3000 });
    const text = answer.body.toString('latin1');
    seen.set(path, `${JSON.stringify(answer.headers)}\n${text}`);
    for (const match of text.matchAll(/(?:href|src|data-src|data-refresh)="([^"#]*)"/g)) {
      const link = new URL(match[1]!.replace(/&amp;/g, '&'), `${relay.baseUrl}${path}`);
      if (link.origin === relay.baseUrl && !seen.has(link.pathname + link.search)) queue.push(link.pathname + link.search);
    }
  }
  t.ok(seen.size >= 12, `crawled ${seen.size} URLs: ${[...seen.keys()].join(' ')}`);
  t.ok([...seen.keys()].some((path) => path.startsWith('/player/')), 'player pages reached');
  t.ok(seen.has('/stat.html'), 'the status page reached');
  // Error answers: refused logins, refused viewers, unknown paths, a malformed request.
  for (const [path, authorization] of [['/stat.json', basic('admin', 'wrong')], ['/test.flv', `Bearer ${ADMIN_TOKEN}x`], ['/nothing', undefined], ['/door.mjpg', undefined]] as const) {
    const answer = await get(`${relay.baseUrl}${path}`, { headers: authorization ? { authorization } : {}, maxBytes: 64 * 1024, readMs: 3000 });
    seen.set(`${path} (refused)`, `${JSON.stringify(answer.headers)}\n${answer.body.toString('latin1')}`);
  }
  await relay.reload(); // a reload logs what changed
  for (const [name, secret] of Object.entries(SECRETS)) {
    const where = [...seen].filter(([, text]) => text.includes(secret)).map(([path]) => path);
    t.same(where, [], `${name}: in no response`);
    t.notOk(relay.logs.some((line) => line.includes(secret)), `${name}: in no log line`);
  }
  t.ok(relay.logs.some((line) => /door/.test(line)), 'the failing cameras were logged (without their passwords)');
});
