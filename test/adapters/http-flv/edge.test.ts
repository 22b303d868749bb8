import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import t from 'tap';
import { unusedPort } from '../../helpers/ports.ts';
import { childFfmpegProcesses, ffprobe, openViewer, waitFor, type OpenViewer } from '../../helpers/probe.ts';
import { startTestRelay, type TestRelay } from '../../helpers/relay.ts';
import { decodeAudio } from '../../helpers/audio.ts';
import { captureStream } from '../../helpers/picture.ts';

// Origin and edge relays: the edge pulls the origin's FLV (H.264 and AAC passed on with VideoCodec copy, no ffmpeg) and MJPEG once.

const ORIGIN = `
<Camera cam>
  Source testsrc://?size=320x240&rate=10&audio=aac
</Camera>
<Stream cam.flv>
  Feed cam
  VideoFrameRate 10
  VideoSize 320x240
  VideoBitRate 300
  VideoGopSize 10
</Stream>
<Stream cam.mjpg>
  Feed cam
</Stream>
`;

function edgeConfig(originPort: number): string {
  return `
<Camera cam>
  Source http://127.0.0.1:${originPort}/cam.flv
  OnDemand yes
</Camera>
<Stream cam.flv>
  Feed cam
  VideoCodec copy
</Stream>
<Camera still>
  Source http://127.0.0.1:${originPort}/cam.mjpg
  OnDemand yes
  CloseAfter 1
</Camera>
<Stream still.mjpg>
  Feed still
</Stream>
`;
}

async function openViewers(url: string, count: number): Promise<OpenViewer[]> {
  const viewers = await Promise.all(Array.from({ length: count }, () => openViewer(url)));
  await waitFor(() => viewers.every((viewer) => viewer.bytes > 1000), 30_000, `video at all ${count} viewers`);
  return viewers;
}

t.test('an edge serves 50 FLV viewers the origin\'s H.264 unchanged while the origin sees one viewer', async (t) => {
  const origin = await startTestRelay(ORIGIN);
  t.teardown(() => origin.stop());
  const edge = await startTestRelay(edgeConfig(origin.port));
  t.teardown(() => edge.stop());
  const viewers = await openViewers(`${edge.baseUrl}/cam.flv`, 50);
  t.teardown(() => viewers.forEach((viewer) => viewer.close()));
  const probed = await ffprobe(`${edge.baseUrl}/cam.flv`, 2);
  t.equal(`${probed.codec_name} ${probed.width}x${probed.height}`, 'h264 320x240', 'the origin\'s codec and size');
  t.equal(origin.relay.outputs.get('cam.flv')!.viewerCount, 1, 'the origin has one viewer: the edge');
  t.equal(edge.relay.outputs.get('cam.flv')!.viewerCount, 50);
  const edgeEncoders = [...edge.relay.encoders.values()].map(({ encoder }) => encoder);
  t.same(edgeEncoders.map((encoder) => [encoder.constructor.name, encoder.pid]), [['Passthrough', undefined]],
    'the edge passes the H.264 on in-process: no ffmpeg');
  const originPids = [...origin.relay.encoders.values()].map(({ encoder }) => encoder.pid).sort();
  t.ok(originPids.length > 0 && originPids.every((pid) => pid !== undefined), 'the origin encodes with ffmpeg');
  const others = childFfmpegProcesses(process.pid).filter((child) => !originPids.includes(child.pid));
  t.same(others.map((child) => /-f lavfi -i (testsrc|sine)=/.exec(child.cmdline)?.[1]).sort(), ['sine', 'testsrc'],
    'the only other ffmpegs are the origin\'s synthetic camera\'s picture and sound');
  t.equal(edge.relay.feeds.get('cam')!.kind, 'http-flv');
  t.equal(edge.relay.feeds.get('cam')!.status.restarts, 0, 'one upstream connection, never retried');
  const heard = await decodeAudio(await captureStream(`${edge.baseUrl}/cam.flv`, 3000), 'edge.flv');
  t.match(heard, { codec: 'aac', sampleRate: 48000, channels: 1 }, 'the origin\'s sound reaches the edge\'s FLV');
  t.ok(heard.toneDb > -30, `the tone is heard at ${heard.toneDb.toFixed(1)} dBFS`);
  t.ok(Math.abs(heard.startTime - heard.videoStartTime!) * 1000 <= 45, `sound starts ${((heard.startTime - heard.videoStartTime!) * 1000).toFixed(0)} ms from the picture`);
  t.ok(edge.relay.feeds.get('cam')!.counters.audioFramesIn > 50, `${edge.relay.feeds.get('cam')!.counters.audioFramesIn} audio frames in at the edge`);
});

t.test('an on-demand edge passes the origin\'s MJPEG through as one origin viewer, only while watched', async (t) => {
  const origin = await startTestRelay(ORIGIN);
  t.teardown(() => origin.stop());
  const edge = await startTestRelay(edgeConfig(origin.port));
  t.teardown(() => edge.stop());
  const originMjpeg = origin.relay.outputs.get('cam.mjpg')!;
  await new Promise((resolve) => setTimeout(resolve, 1000));
  t.equal(originMjpeg.viewerCount, 0, 'an on-demand edge with nobody watching does not pull');
  const viewers = await openViewers(`${edge.baseUrl}/still.mjpg`, 20);
  t.teardown(() => viewers.forEach((viewer) => viewer.close()));
  t.match(viewers[0]!.response.headers['content-type'], /^multipart\/x-mixed-replace/);
  t.ok(viewers[0]!.head.includes(Buffer.from([0xff, 0xd8])), 'JPEG images arrive');
  t.equal(originMjpeg.viewerCount, 1);
  for (const viewer of viewers) viewer.close();
  await waitFor(() => originMjpeg.viewerCount === 0, 10_000, 'the edge to let go of the origin after CloseAfter 1');
  t.pass('the edge disconnected from the origin once its viewers left');
});

t.test('an edge reconnects by itself after the origin restarts', async (t) => {
  const port = await unusedPort();
  const config = `HTTPPort ${port}\n${ORIGIN}`;
  let origin: TestRelay = await startTestRelay(config);
  t.teardown(() => origin.stop());
  const edge = await startTestRelay(edgeConfig(port));
  t.teardown(() => edge.stop());
  const viewer = (await openViewers(`${edge.baseUrl}/cam.flv`, 1))[0]!;
  t.teardown(() => viewer.close());
  const feed = edge.relay.feeds.get('cam')!;
  await origin.stop();
  await waitFor(() => feed.status.state === 'retrying', 15_000, 'the edge to notice the origin went away');
  t.match(feed.status.lastError?.message, /CLOSED|CONNECT/, `reported: ${feed.status.lastError?.message}`);
  origin = await startTestRelay(config);
  const framesBefore = feed.counters.framesIn;
  await waitFor(() => feed.status.state === 'live' && feed.counters.framesIn > framesBefore + 10, 30_000, 'frames from the restarted origin');
  const bytesBefore = viewer.bytes;
  await waitFor(() => viewer.bytes > bytesBefore + 5000, 20_000, 'the edge viewer to get video again');
  const probed = await ffprobe(`${edge.baseUrl}/cam.flv`, 2);
  t.equal(`${probed.codec_name} ${probed.width}x${probed.height}`, 'h264 320x240');
  t.equal(origin.relay.outputs.get('cam.flv')!.viewerCount, 1, 'the restarted origin has the edge as its one viewer');
});

/** A fake "origin" answering every request with video/x-flv and the bytes `body` writes. */
async function hostileOrigin(body: (write: (bytes: Buffer) => void, end: () => void) => void): Promise<Server> {
  const server = createServer((request, response) => {
    response.writeHead(200, { 'Content-Type': 'video/x-flv' });
    body((bytes) => response.write(bytes), () => response.end());
    request.on('close', () => response.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return server;
}

const FLV_HEADER = Buffer.from('464c5601010000000900000000', 'hex');
const hostile: Array<[string, (write: (bytes: Buffer) => void, end: () => void) => void, RegExp]> = [
  ['garbage', (write, end) => { write(Buffer.from('this is not FLV at all, just text pretending to be video')); end(); }, /PROTOCOL: the stream does not start with an FLV header/],
  ['a truncated tag', (write, end) => { write(Buffer.concat([FLV_HEADER, Buffer.from([9, 0, 0, 200, 0, 0, 0, 0, 0, 0, 0]), Buffer.alloc(20)])); end(); }, /CLOSED: the origin closed the FLV stream in the middle of a tag/],
  ['an oversized tag', (write) => write(Buffer.concat([FLV_HEADER, Buffer.from([9, 0xff, 0xff, 0xff, 0, 0, 0, 0, 0, 0, 0])])), /PROTOCOL: FLV tag of 16777215 bytes is larger than/],
  ['VP6 video', (write) => write(Buffer.concat([FLV_HEADER, Buffer.from([9, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0x14, 0, 0, 0, 0, 13])])), /PROTOCOL: the FLV stream carries On2 VP6 video \(codec id 4\), not H\.264/],
];

for (const [what, body, expected] of hostile) {
  t.test(`an edge whose origin sends ${what} reports a clear error and keeps serving`, async (t) => {
    const fake = await hostileOrigin(body);
    t.teardown(() => new Promise((resolve) => { fake.closeAllConnections(); fake.close(resolve); }));
    const port = (fake.address() as AddressInfo).port;
    const edge = await startTestRelay(`<Camera cam>\n Source http://127.0.0.1:${port}/cam.flv\n</Camera>\n<Stream cam.flv>\n Feed cam\n VideoCodec copy\n</Stream>\n<Stream stat.html>\n Format status\n</Stream>\n`);
    t.teardown(() => edge.stop());
    const camera = async () => ((await (await fetch(`${edge.baseUrl}/stat.json`)).json()) as { cameras: Array<{ lastError: { message: string } | null }> }).cameras[0]!;
    await waitFor(async () => (await camera()).lastError !== null, 15_000, 'the error on /stat.json');
    t.match((await camera()).lastError!.message, expected);
    t.equal((await fetch(`${edge.baseUrl}/stat.html`)).status, 200, 'the edge still answers');
    t.notOk(edge.logs.some((line) => /\n|    at /.test(line)), 'no stack traces in the log');
  });
}
