import type { IncomingMessage } from 'node:http';
import t from 'tap';
import type { StatusSnapshot } from '../../relay/app/status.ts';
import { unusedPort } from '../helpers/ports.ts';
import { ffprobe, openViewer, waitFor } from '../helpers/probe.ts';
import { startTestRelay, syntheticConfig, type TestRelay } from '../helpers/relay.ts';
import { adaptShippedConfig, startNginx, type NginxPeer } from './nginx-peer.ts';

// Debian's nginx running deploy/nginx/relay.conf in front of a relay: HLS cached, live FLV passed through.

interface SeenRequest {
  readonly url: string;
  readonly forwardedFor: string | undefined;
  readonly realIp: string | undefined;
}

/** Records every request that reaches the relay's HTTP server (what the cache did not absorb). */
function recordRequests(relay: TestRelay): SeenRequest[] {
  const seen: SeenRequest[] = [];
  relay.server.prependListener('request', (request: IncomingMessage) => {
    seen.push({ url: request.url ?? '', forwardedFor: request.headers['x-forwarded-for'] as string | undefined, realIp: request.headers['x-real-ip'] as string | undefined });
  });
  return seen;
}

/**
 * One relay behind one nginx, started by the first test that asks and shared by the HLS and live tests (the last of the
 * file): neither changes what the other checks (the HLS test opens no live viewer; the live test fetches no segment).
 */
let shared: Promise<{ relay: TestRelay; nginx: NginxPeer; seen: SeenRequest[] }> | undefined;

function setUp(): Promise<{ relay: TestRelay; nginx: NginxPeer; seen: SeenRequest[] }> {
  shared ??= (async () => {
    const relay = await startTestRelay(syntheticConfig());
    t.teardown(() => relay.stop());
    const seen = recordRequests(relay);
    const nginx = await startNginx(relay.port);
    t.teardown(() => nginx.stop());
    await waitFor(async () => (await fetch(`${nginx.baseUrl}/test.m3u8`)).status === 200 && (await playlistSegments(nginx)).length >= 2,
      60_000, 'a playlist with two segments through nginx');
    return { relay, nginx, seen };
  })();
  return shared;
}

/** The segment URLs of the playlist as nginx serves it. */
async function playlistSegments(nginx: NginxPeer): Promise<string[]> {
  const text = await (await fetch(`${nginx.baseUrl}/test.m3u8`)).text();
  return text.split('\n').filter((line) => line !== '' && !line.startsWith('#')).map((line) => new URL(line, `${nginx.baseUrl}/test.m3u8`).pathname);
}

t.test('the shipped file is adapted in exactly five places and refuses a file of another shape', async (t) => {
  const adapted = adaptShippedConfig('server 127.0.0.1:8090;\nlisten 80;\n/var/cache/nginx/relay x\n/var/cache/nginx/relay-auth z\n/var/log/nginx/relay-access.log y\n',
    { upstreamPort: 1234, port: 5678, dir: '/tmp/d' });
  t.equal(adapted, 'server 127.0.0.1:1234;\nlisten 127.0.0.1:5678;\n/tmp/d/cache x\n/tmp/d/cache-auth z\n/tmp/d/access.log y\n');
  t.throws(() => adaptShippedConfig('listen 80;', { upstreamPort: 1, port: 2, dir: '/' }), /expected .* once, found it 0 times/);
});

// The restart test has its own relay and nginx; the HLS and live tests share theirs without touching what the other
// checks. All three mostly wait (for segments, a measurement window, a stream): they run side by side.
t.jobs = 3;

t.test('a relay restarted behind nginx names new segments, so the cache never serves an old run\'s segment', async (t) => {
  const port = await unusedPort();
  const config = `HTTPPort ${port}\n${syntheticConfig()}`;
  let relay = await startTestRelay(config);
  t.teardown(() => relay.stop());
  const nginx = await startNginx(port);
  t.teardown(() => nginx.stop());
  await waitFor(async () => (await playlistSegments(nginx).catch(() => [])).length >= 2, 60_000, 'segments before the restart');
  const before = await playlistSegments(nginx);
  for (const segment of before) await (await fetch(`${nginx.baseUrl}${segment}`)).arrayBuffer();
  await relay.stop();
  relay = await startTestRelay(config);
  await waitFor(async () => {
    const names = await playlistSegments(nginx).catch(() => []);
    return names.length >= 2 && names.every((name) => !before.includes(name));
  }, 60_000, 'a playlist of the new run through nginx');
  const after = await playlistSegments(nginx);
  t.same(after.filter((name) => before.includes(name)), [], `no name repeats: ${before[0]} then ${after[0]}`);
  const fresh = await fetch(`${nginx.baseUrl}${after.at(-1)}`);
  t.equal(fresh.headers.get('x-cache-status'), 'MISS', 'the new run\'s segment comes from the relay');
  t.equal(Buffer.from(await fresh.arrayBuffer())[0], 0x47);
});

t.test('HLS through nginx: decodable, segments cached, playlists fetched about once per second, tokens ignored', async (t) => {
  const { nginx, seen } = await setUp();

  const probed = await ffprobe(`${nginx.baseUrl}/test.m3u8`, 2);
  t.equal(`${probed.codec_name} ${probed.width}x${probed.height}`, 'h264 320x240', 'ffprobe decodes HLS through nginx');

  const [segment, other] = (await playlistSegments(nginx)).slice(-2);
  const first = await fetch(`${nginx.baseUrl}${segment}?token=alice`);
  await first.arrayBuffer();
  const second = await fetch(`${nginx.baseUrl}${segment}?token=bob`);
  const body = Buffer.from(await second.arrayBuffer());
  t.equal(second.headers.get('x-cache-status'), 'HIT', 'the second fetch of a segment is a cache HIT, whatever the token');
  t.equal(body[0], 0x47, 'an MPEG-TS packet');
  t.equal(seen.filter((request) => request.url.startsWith(segment!)).length, 1, 'the relay served that segment once');

  const otherUrl = `${nginx.baseUrl}${other}`;
  t.equal((await fetch(`${otherUrl}?a=1&token=x`)).headers.get('x-cache-status'), 'MISS');
  t.equal((await fetch(`${otherUrl}?a=1&token=y`)).headers.get('x-cache-status'), 'HIT', 'token after another parameter');
  t.equal((await fetch(`${otherUrl}?token=z&a=1`)).headers.get('x-cache-status'), 'HIT', 'token before another parameter');
  t.equal((await fetch(`${otherUrl}?a=2&token=x`)).headers.get('x-cache-status'), 'MISS', 'other parameters stay in the key');

  const originPlaylists = async (): Promise<number> =>
    ((await (await fetch(`${nginx.baseUrl}/stat.json`)).json()) as StatusSnapshot).streams.find((stream) => stream.name === 'test.m3u8')!.originRequests!.playlist!;
  const countedBefore = await originPlaylists();
  const before = seen.filter((request) => request.url.startsWith('/test.m3u8')).length;
  const started = Date.now();
  let answered = 0;
  while (Date.now() - started < 4000) {
    const round = await Promise.all(Array.from({ length: 25 }, (_, i) => fetch(`${nginx.baseUrl}/test.m3u8?token=viewer${i}`)));
    for (const response of round) if (response.status === 200 && (await response.text()).startsWith('#EXTM3U')) answered++;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const seconds = (Date.now() - started) / 1000;
  const reached = seen.filter((request) => request.url.startsWith('/test.m3u8')).length - before;
  t.ok(answered >= 500, `${answered} playlist requests answered in ${seconds.toFixed(1)} s`);
  // Cached for 1 s: about one upstream fetch per second, plus one for a refresh under way at either end.
  t.ok(reached >= 1 && reached <= Math.ceil(seconds) + 2, `${reached} reached the relay in ${seconds.toFixed(1)} s`);
  t.equal(await originPlaylists() - countedBefore, reached, 'the relay\'s own originRequests counter agrees');

  const forwarded = seen.at(-1)!;
  t.equal(forwarded.realIp, '127.0.0.1', 'X-Real-IP carries the viewer address');
  t.equal(forwarded.forwardedFor, '127.0.0.1', 'X-Forwarded-For carries the viewer address');
  const log = await nginx.accessLog();
  t.ok(log.some((line) => / cache=HIT /.test(line)), 'the access log records cache hits');
});

t.test('live FLV and MJPEG through nginx stream unbuffered, and a viewer leaving nginx leaves the relay', async (t) => {
  const { relay, nginx } = await setUp();
  const viewer = await openViewer(`${nginx.baseUrl}/test.flv`);
  t.teardown(() => viewer.close());
  t.equal(viewer.response.headers['x-cache-status'], undefined, 'not cached');
  await waitFor(() => viewer.bytes > 20_000, 20_000, 'FLV bytes through nginx');
  t.equal(viewer.head.subarray(0, 3).toString(), 'FLV');
  const samples: number[] = [];
  for (let i = 0; i < 6; i++) {
    await new Promise((resolve) => setTimeout(resolve, 500));
    samples.push(viewer.bytes);
  }
  t.ok(samples.every((bytes, i) => i === 0 || bytes > samples[i - 1]!), `bytes keep arriving every 500 ms: ${samples.join(', ')}`);
  const probed = await ffprobe(`${nginx.baseUrl}/test.flv`, 2);
  t.equal(`${probed.codec_name} ${probed.width}x${probed.height}`, 'h264 320x240', 'ffprobe decodes FLV through nginx');
  const mjpeg = await openViewer(`${nginx.baseUrl}/test.mjpg`);
  t.teardown(() => mjpeg.close());
  await waitFor(() => mjpeg.head.includes(Buffer.from([0xff, 0xd9])), 10_000, 'a whole JPEG through nginx');
  t.match(mjpeg.response.headers['content-type'], /^multipart\/x-mixed-replace/, 'MJPEG passes through as multipart');
  mjpeg.close();
  const output = relay.relay.outputs.get('test.flv')!;
  await waitFor(() => output.viewerCount === 1, 10_000, 'one relay viewer (the ffprobe one gone)');
  viewer.close();
  await waitFor(() => output.viewerCount === 0, 10_000, 'the relay to see the viewer leave through nginx');
  t.pass('the relay saw the viewer leave');
});
