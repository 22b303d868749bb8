import { request } from 'node:http';
import t from 'tap';
import { MAX_SESSIONS_PER_ADDRESS } from '../../../relay/outputs/hls.ts';
import { waitFor } from '../../helpers/probe.ts';
import { startTestRelay, type TestRelay } from '../../helpers/relay.ts';

/** GET from a chosen loopback address with a chosen User-Agent; resolves with the status. */
function getFrom(relay: TestRelay, path: string, agent: string, localAddress = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(`${relay.baseUrl}${path}`, { localAddress, headers: { 'User-Agent': agent }, agent: false }, (response) => {
      response.resume();
      response.on('end', () => resolve(response.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end();
  });
}

const config = (maxClients: number): string => `
MaxClients ${maxClients}
<Camera test>
  Source testsrc://?size=160x120&rate=10
</Camera>
<Stream test.m3u8>
  Feed test
  VideoFrameRate 10
  VideoBitRate 100
  HLSSegmentTime 1
</Stream>
<Stream test.flv>
  Feed test
  VideoFrameRate 10
  VideoBitRate 100
</Stream>
`;

const viewers = async (relay: TestRelay): Promise<number> =>
  ((await (await fetch(`${relay.baseUrl}/stat.json`)).json()) as { server: { viewers: number } }).server.viewers;

// First and alone: the flood's request count depends on how fast this process runs. The others, a relay each and
// counting only its own viewers, run side by side after it.
await t.test('a unique-agent playlist flood from one address holds a bounded number of slots; real viewers get in', async (t) => {
  // Guards against HLS slot exhaustion by made-up User-Agents: one address used to take a slot per agent.
  const relay = await startTestRelay(config(MAX_SESSIONS_PER_ADDRESS + 4));
  t.teardown(() => relay.stop());
  await waitFor(async () => (await getFrom(relay, '/test.m3u8', 'warm-up', '127.0.0.9')) === 200, 30_000, 'the playlist');
  let flooding = true;
  let sent = 0;
  const floodStatuses = new Map<number, number>();
  const flood = (async () => {
    while (flooding) {
      const batch = await Promise.all(Array.from({ length: 6 }, () => getFrom(relay, '/test.m3u8', `flood-${sent++}`)));
      for (const status of batch) floodStatuses.set(status, (floodStatuses.get(status) ?? 0) + 1);
      await new Promise((resolve) => setTimeout(resolve, 100)); // about 60 requests a second
    }
  })();
  await waitFor(() => sent >= 60, 10_000, 'the flood under way');
  const real: number[] = [];
  for (let round = 0; round < 3; round++) {
    for (const address of ['127.0.0.2', '127.0.0.3', '127.0.0.4']) real.push(await getFrom(relay, '/test.m3u8', 'Mozilla/5.0 viewer', address));
    await new Promise((resolve) => setTimeout(resolve, 300));
  }
  flooding = false;
  await flood;
  t.same(real, real.map(() => 200), 'every real viewer poll is served during the flood');
  t.ok(sent >= 100, `${sent} flood requests`);
  t.equal(floodStatuses.get(200), sent, 'flood requests are served as the sessions they share, not refused');
  t.equal(await viewers(relay), MAX_SESSIONS_PER_ADDRESS + 1 + 3, 'the flood counts as at most MAX_SESSIONS_PER_ADDRESS viewers');
});

t.jobs = 3;

t.test('300 junk requests with 300 user agents take no viewer slot', async (t) => {
  // Guards against HLS slot exhaustion: a request under /NAME/ used to count its client as a viewer before the name was checked.
  const relay = await startTestRelay(config(3));
  t.teardown(() => relay.stop());
  await waitFor(async () => (await getFrom(relay, '/test.m3u8', 'probe')) === 200, 30_000, 'the playlist');
  await waitFor(async () => (await viewers(relay)) === 1, 5000, 'the probe counted');
  const statuses: number[] = [];
  for (let batch = 0; batch < 10; batch++) {
    statuses.push(...(await Promise.all(Array.from({ length: 30 }, (_, i) => getFrom(relay, '/test/nope', `junk-${batch * 30 + i}`)))));
  }
  t.equal(statuses.filter((status) => status === 404).length, 300, 'every junk request is a 404');
  t.equal(await viewers(relay), 1, 'only the probe counts');
  t.equal(await getFrom(relay, '/test.m3u8', 'a real viewer', '127.0.0.2'), 200, 'a real viewer is admitted');
  t.equal(await getFrom(relay, '/test.m3u8', 'another viewer', '127.0.0.3'), 200, 'and another');
  t.equal(await viewers(relay), 3);
  t.equal(await getFrom(relay, '/test.m3u8', 'one too many', '127.0.0.4'), 503, 'MaxClients still holds');
  const stat = (await (await fetch(`${relay.baseUrl}/stat.json`)).json()) as { server: { refused: number } };
  t.equal(stat.server.refused, 1, 'the 404s were not refusals either');
});

t.test('session tokens tell viewers behind one address apart, within the same bound', async (t) => {
  const relay = await startTestRelay(config(100));
  t.teardown(() => relay.stop());
  await waitFor(async () => (await getFrom(relay, '/test.m3u8?session=a', 'same')) === 200, 30_000, 'the playlist');
  for (const token of ['b', 'c', 'b', 'bad token!', 'x'.repeat(65)]) t.equal(await getFrom(relay, `/test.m3u8?session=${encodeURIComponent(token)}`, 'same'), 200);
  // a, b, c, and the agent-keyed session that invalid tokens fall back to.
  t.equal(await viewers(relay), 4);
  for (let i = 0; i < 40; i++) await getFrom(relay, `/test.m3u8?session=s${i}`, 'same');
  t.equal(await viewers(relay), MAX_SESSIONS_PER_ADDRESS);
});

t.test('on demand: the first playlist request starts the camera and is answered; the camera stops after the viewer goes', async (t) => {
  const relay = await startTestRelay(`
<Camera lazy>
  Source testsrc://?size=160x120&rate=10
  OnDemand yes
  CloseAfter 1
</Camera>
<Stream lazy.m3u8>
  Feed lazy
  VideoFrameRate 10
  VideoBitRate 100
  HLSSegmentTime 1
</Stream>
`);
  t.teardown(() => relay.stop());
  const feed = relay.relay.feeds.get('lazy')!;
  t.equal(feed.state, 'idle', 'idle before anyone asks');
  const started = Date.now();
  t.equal(await getFrom(relay, '/lazy.m3u8', 'first viewer'), 200, 'the first request waits for the first segment');
  t.ok(Date.now() - started < 15_000, `answered in ${Date.now() - started} ms`);
  t.equal(await viewers(relay), 1);
  await waitFor(() => feed.state === 'idle', 30_000, 'the camera to stop after the viewer stopped polling');
  t.equal(await viewers(relay), 0);
});
