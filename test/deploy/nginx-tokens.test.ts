// Guards: deploy/nginx/relay.conf in front of token streams served a cached segment to a request with no token or a
// bogus one (cache HIT), and signed playlists were `private`, so every viewer's reload reached the relay.
import type { IncomingMessage } from 'node:http';
import t from 'tap';
import { signViewerToken } from '../../relay/auth/viewer-token.ts';
import { waitFor } from '../helpers/probe.ts';
import { startTestRelay, syntheticConfig } from '../helpers/relay.ts';
import { startNginx } from './nginx-peer.ts';

const SECRET = 'viewer-token-secret-0123456789abcdef';
const relay = await startTestRelay(`ViewerTokenSecret ${SECRET}\nDefaultAccess token\nTrustProxy 127.0.0.1\n${syntheticConfig()}`);
t.teardown(() => relay.stop());
const seen: string[] = [];
relay.server.prependListener('request', (request: IncomingMessage) => seen.push(request.url ?? ''));
const nginx = await startNginx(relay.port);
t.teardown(() => nginx.stop());
const token = (scope: string, expiresAt = Math.floor(Date.now() / 1000) + 3600): string => signViewerToken(SECRET, scope, expiresAt);
const viewer = token('test.m3u8');

/** The segment paths (with the token the playlist gave them) of the playlist nginx serves to a holder of `own`. */
async function segments(own: string): Promise<string[]> {
  const text = await (await fetch(`${nginx.baseUrl}/test.m3u8?token=${own}`)).text();
  return text.split('\n').filter((line) => line !== '' && !line.startsWith('#')).map((line) => `/${line}`);
}

await waitFor(async () => (await segments(viewer)).length >= 2, 60_000, 'a playlist with two segments through nginx');

t.test('a cached segment is served only to requests whose token the relay accepts', async (t) => {
  const [withToken] = (await segments(viewer)).slice(-1);
  const path = withToken!.split('?')[0]!;
  t.match(withToken, /\?token=\d+\.[\w-]{43}$/, 'the playlist lists its segments with a token');
  const first = await fetch(`${nginx.baseUrl}${withToken}`);
  t.equal(first.status, 200);
  t.equal(Buffer.from(await first.arrayBuffer())[0], 0x47, 'an MPEG-TS packet');
  const again = await fetch(`${nginx.baseUrl}${path}?token=${viewer}`);
  await again.arrayBuffer();
  t.equal(again.status, 200, 'the viewer\'s own token opens it too');
  t.equal(again.headers.get('x-cache-status'), 'HIT', 'from the cache');
  const attacks: Record<string, string> = {
    'no token': path,
    'a bogus token': `${path}?token=${Math.floor(Date.now() / 1000) + 3600}.${'A'.repeat(43)}`,
    'a token of another stream': `${path}?token=${token('test.flv')}`,
    'an expired token': `${path}?token=${token('test.m3u8', Math.floor(Date.now() / 1000) - 5)}`,
    'a garbage token': `${path}?token=alice`,
    'the token twice, once bogus': `${path}?token=x&token=${viewer}`,
    'an upper-case spelling': `${path.toUpperCase()}`,
  };
  for (const [name, attack] of Object.entries(attacks)) {
    const answer = await fetch(`${nginx.baseUrl}${attack}`);
    const body = Buffer.from(await answer.arrayBuffer());
    t.equal(answer.status, 403, `${name}: 403`);
    t.not(body[0], 0x47, `${name}: no segment bytes`);
  }
  t.equal((await fetch(`${nginx.baseUrl}/test.m3u8`)).status, 403, 'the playlist without a token');
  t.equal((await fetch(`${nginx.baseUrl}/test.m3u8?token=${token('test.flv')}`)).status, 403, 'the playlist with another stream\'s token');
});

t.test('one viewer\'s segments cost the relay one token check per 10 s, not one per request', async (t) => {
  const list = await segments(viewer);
  const checksBefore = seen.filter((url) => url.startsWith('/api/viewer-check')).length;
  for (let round = 0; round < 5; round++) for (const segment of list) await (await fetch(`${nginx.baseUrl}${segment}`)).arrayBuffer();
  const checks = seen.filter((url) => url.startsWith('/api/viewer-check')).length - checksBefore;
  t.ok(checks <= 2, `${5 * list.length} segment requests, ${checks} token check(s) at the relay`);
});

t.test('token holders\' playlist reloads are answered from the cache: about one per second reaches the relay', async (t) => {
  const viewers = Array.from({ length: 20 }, (_, i) => token('test.m3u8', Math.floor(Date.now() / 1000) + 3600 + i));
  const before = seen.filter((url) => url.startsWith('/test.m3u8')).length;
  const started = Date.now();
  let answered = 0;
  let tokensSeen = new Set<string>();
  while (Date.now() - started < 3000) {
    const round = await Promise.all(viewers.map((own) => fetch(`${nginx.baseUrl}/test.m3u8?token=${own}`)));
    for (const response of round) {
      const text = await response.text();
      if (response.status !== 200 || !text.startsWith('#EXTM3U')) continue;
      answered++;
      tokensSeen = new Set([...tokensSeen, ...text.match(/token=[\w.-]+/g) ?? []]);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const seconds = (Date.now() - started) / 1000;
  const reached = seen.filter((url) => url.startsWith('/test.m3u8')).length - before;
  t.ok(answered >= 300, `${answered} playlist requests answered in ${seconds.toFixed(1)} s`);
  t.ok(reached <= Math.ceil(seconds) + 2, `${reached} reached the relay in ${seconds.toFixed(1)} s`);
  t.ok(tokensSeen.size <= 2, `the shared playlist carries ${tokensSeen.size} segment token(s), none of them a viewer's`);
  t.notOk(viewers.some((own) => tokensSeen.has(`token=${own}`)), 'no viewer\'s own token is handed to others');
});
