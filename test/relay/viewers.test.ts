import { connect, type Socket } from 'node:net';
import t from 'tap';
import { ControllableCamera, makeJpegFrames, registryWith } from '../helpers/controllable-camera.ts';
import { fetchBytes, openViewer, waitFor } from '../helpers/probe.ts';
import { startTestRelay } from '../helpers/relay.ts';

const frames = makeJpegFrames(20);
const cam = new ControllableCamera(frames, 20);
// Large frames (about 100 KB at 20 fps) fill a stuck viewer's kernel buffers within seconds.
const bigFrames = makeJpegFrames(10, '1280x720', 2);
const big = new ControllableCamera(bigFrames, 20);
const relay = await startTestRelay(
  `MaxClients 400
<Camera cam>
  Source ctl://cam
</Camera>
<Camera big>
  Source ctl://big
</Camera>
<Camera halved>
  Source ctl://cam
  InputFrameRate 10
</Camera>
<Stream cam.mjpg>
  Feed cam
</Stream>
<Stream big.mjpg>
  Feed big
  ViewerBudget 64k
  ViewerMaxQueue 256k
  ViewerWriteTimeout 3
</Stream>
<Stream paced.mjpg>
  Feed cam
  VideoFrameRate 5
</Stream>
<Stream halved.mjpg>
  Feed halved
</Stream>
<Stream few.mjpg>
  Feed cam
  MaxClients 2
</Stream>
`,
  { adapters: registryWith({ cam, big }) },
);
t.teardown(() => relay.stop());

/** A viewer that sends its request and never reads a byte of the answer. */
function stuckViewer(path: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect(relay.port, '127.0.0.1', () => {
      socket.write(`GET ${path} HTTP/1.1\r\nHost: x\r\n\r\n`);
      socket.pause();
      resolve(socket);
    });
    socket.on('error', reject);
  });
}

/** Counts multipart parts a viewer receives per second of wall time. */
async function partsPerSecond(path: string, seconds: number): Promise<number> {
  const viewer = await openViewer(`${relay.baseUrl}${path}`);
  let parts = 0;
  viewer.response.on('data', (chunk: Buffer) => (parts += chunk.toString('latin1').split('--relayframe\r\n').length - 1));
  await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
  viewer.close();
  return parts / seconds;
}

t.test('100 viewers that never read: readers get every frame, memory stays bounded, stuck ones are cut off', async (t) => {
  const output = relay.relay.outputs.get('big.mjpg')!;
  const fanout = output.fanout!;
  const readers = await Promise.all(Array.from({ length: 50 }, () => openViewer(`${relay.baseUrl}/big.mjpg`)));
  const rssBefore = process.memoryUsage().rss;
  const stuck = await Promise.all(Array.from({ length: 100 }, () => stuckViewer('/big.mjpg')));
  await waitFor(() => output.viewerCount === 150, 5000, '150 viewers');
  const framesBefore = fanout.counters.framesOut;
  const readerBytesBefore = readers.reduce((sum, reader) => sum + reader.bytes, 0);
  await waitFor(() => fanout.counters.drops >= 100 * 5, 20_000, 'every stuck viewer to fall behind');
  const framesBroadcast = fanout.counters.framesOut - framesBefore;
  let peakQueued = 0;
  for (const viewer of fanout.viewers) peakQueued = Math.max(peakQueued, viewer.queuedBytes);
  const rssGrowth = process.memoryUsage().rss - rssBefore;
  const droppingViewers = [...fanout.viewers].filter((viewer) => viewer.drops > 0).length;
  t.ok(droppingViewers <= 100, `${droppingViewers} viewers have dropped frames (only stuck ones may)`);
  const readerBytes = readers.reduce((sum, reader) => sum + reader.bytes, 0) - readerBytesBefore;
  const expected = 50 * framesBroadcast * bigFrames[0]!.length;
  t.ok(readerBytes >= expected * 0.9, `readers received ${(readerBytes / 1e6).toFixed(1)} MB of ~${(expected / 1e6).toFixed(1)} MB broadcast`);
  t.ok(peakQueued <= 64 * 1024 + 2 * bigFrames[0]!.length, `no viewer queues more than its budget plus a frame (peak ${peakQueued} bytes)`);
  t.ok(rssGrowth < 96 * 1024 * 1024, `RSS grew ${(rssGrowth / 1048576).toFixed(1)} MiB with 100 stuck viewers`);
  await waitFor(() => output.viewerCount === 50, 10_000, 'stuck viewers to hit ViewerWriteTimeout');
  t.equal(fanout.counters.slowDisconnects, 100);
  t.ok(readers.every((reader) => !reader.response.destroyed), 'readers still connected');
  for (const reader of readers) reader.close();
  for (const socket of stuck) socket.destroy();
});

t.test('MaxClients: the third viewer of a two-viewer stream gets 503 before any stream byte', async (t) => {
  const first = await openViewer(`${relay.baseUrl}/few.mjpg`);
  const second = await openViewer(`${relay.baseUrl}/few.mjpg`);
  const refused = await fetchBytes(`${relay.baseUrl}/few.mjpg`);
  t.equal(refused.status, 503);
  t.equal(refused.body.toString(), 'stream few.mjpg is full (2 viewers)\n');
  t.equal(refused.headers.get('retry-after'), '5');
  const stat = (await (await fetch(`${relay.baseUrl}/stat.json`)).json()) as { server: { refused: number } };
  t.ok(stat.server.refused >= 1);
  first.close();
  second.close();
  await waitFor(() => relay.relay.outputs.get('few.mjpg')!.viewerCount === 0, 3000, 'slots freed');
  const again = await openViewer(`${relay.baseUrl}/few.mjpg`);
  t.equal(again.response.statusCode, 200, 'a freed slot admits the next viewer');
  again.close();
});

t.test('global MaxClients counts viewers of every stream', async (t) => {
  const viewers = await Promise.all(Array.from({ length: 400 }, (_, i) => openViewer(`${relay.baseUrl}/${i % 2 ? 'cam' : 'paced'}.mjpg`)));
  const refused = await fetchBytes(`${relay.baseUrl}/halved.mjpg`);
  t.equal(refused.status, 503);
  t.equal(refused.body.toString(), 'server is full (400 viewers)\n');
  for (const viewer of viewers) viewer.close();
});

t.test('InputFrameRate keeps 10 of the camera\'s 20 fps; VideoFrameRate paces an MJPEG stream to 5', async (t) => {
  const [halved, paced, full] = await Promise.all([partsPerSecond('/halved.mjpg', 3), partsPerSecond('/paced.mjpg', 3), partsPerSecond('/cam.mjpg', 3)]);
  t.ok(halved >= 8.5 && halved <= 11, `InputFrameRate 10: ${halved.toFixed(1)} fps`);
  t.ok(paced >= 4 && paced <= 5.7, `VideoFrameRate 5: ${paced.toFixed(1)} fps`);
  t.ok(full >= 17 && full <= 21.5, `no limit: ${full.toFixed(1)} fps`);
  t.ok(relay.relay.feeds.get('halved')!.counters.framesDropped > 0, 'the dropped input frames are counted');
});
