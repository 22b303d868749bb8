import { writeFile } from 'node:fs/promises';
import t from 'tap';
import { GstRtspServer } from '../../adapters/rtsp/gst-server.ts';
import { childFfmpegs, ffprobe, fetchBytes, openViewer, waitFor } from '../../helpers/probe.ts';
import { unusedPort } from '../../helpers/ports.ts';
import { startTestRelay, syntheticConfig } from '../../helpers/relay.ts';
import { playOverTcp, TestRtspClient } from './fixtures.ts';

const rtspPort = await unusedPort();
const globals = `RTSPPort ${rtspPort}\nRTSPUDPPortRange 43000-43999\n`;
const running = await startTestRelay(`${globals}${syntheticConfig({ rate: 10 })}`);
t.teardown(() => running.stop());
const rtsp = (name: string): string => `rtsp://127.0.0.1:${rtspPort}/${name}`;

t.test('every video stream of the relay is read by ffprobe over RTSP, over TCP and over UDP', async (t) => {
  t.equal(running.rtsp?.port, rtspPort);
  const readings = ['tcp', 'udp'].flatMap((transport) =>
    ([['test.flv', 'h264'], ['test.m3u8', 'h264'], ['test.mjpg', 'mjpeg']] as const).map(([name, codec]) => ({ transport, name, codec })));
  // The six readers at once: each reads its own session for 2 s.
  const streams = await Promise.all(readings.map(({ transport, name }) => ffprobe(rtsp(name), 2, ['-rtsp_transport', transport])));
  readings.forEach(({ transport, name, codec }, index) => {
    const stream = streams[index]!;
    t.equal(stream.codec_name, codec, `${name} over ${transport}`);
    t.equal(stream.width, 320);
    t.ok(Number(stream.nb_read_frames) >= 5, `${name} over ${transport}: ${stream.nb_read_frames} frames`);
  });
  const client = await TestRtspClient.connect(rtspPort);
  t.teardown(() => client.close());
  t.equal((await client.request('DESCRIBE', rtsp('test.jpg'))).status, 404, 'snapshot streams are not RTSP streams');
  t.equal((await client.request('DESCRIBE', rtsp('stat.html'))).status, 404);
  // A camera without sound: the SDP stays video only, and its sound track does not exist.
  t.notMatch((await client.request('DESCRIBE', rtsp('test.flv'))).body.toString(), /m=audio|trackID=1/);
  t.equal((await client.request('SETUP', `${rtsp('test.flv')}/trackID=1`, { Transport: 'RTP/AVP/TCP;unicast' })).status, 404);
});

t.test('50 RTSP readers and an HTTP viewer leave one camera connection and one encoder', async (t) => {
  // The camera and the shared encoder (HLS is packaged in the relay): running before any RTSP reader comes.
  await waitFor(() => childFfmpegs().length === 2, 20_000, 'the relay\'s ffmpeg processes');
  const before = childFfmpegs().sort();
  const readers = await Promise.all(Array.from({ length: 50 }, () => playOverTcp(rtspPort, 'test.flv')));
  t.teardown(() => readers.forEach(({ client }) => client.close()));
  const viewer = await openViewer(`${running.baseUrl}/test.flv`);
  t.teardown(() => viewer.close());
  await Promise.all(readers.map(({ client }) => client.until(() => client.packets.filter((p) => p.rtp?.marker).length >= 5, 20_000, 'five frames')));
  t.same(childFfmpegs().sort(), before, 'no ffmpeg started for them');
  t.equal(running.relay.encoders.size, 1, 'flv and hls share one encoder');
  t.equal(before.filter((cmd) => / -f lavfi /.test(cmd)).length, 1, 'one synthetic camera');
  const stat = JSON.parse((await fetchBytes(`${running.baseUrl}/stat.json`)).body.toString());
  const flv = stat.streams.find((stream: { name: string }) => stream.name === 'test.flv');
  t.equal(flv.protocols.rtsp.viewers, 50);
  t.equal(flv.protocols.rtsp.tcp, 50);
  t.ok(flv.protocols.rtsp.bytesOut > 0);
  t.equal(stat.server.viewers, 51, 'the server counts RTSP readers with HTTP viewers');
  const listed = flv.viewerList as Array<{ protocol: string; address: string; bytesSent: number }>;
  t.same([listed.filter((v) => v.protocol === 'http').length, listed.filter((v) => v.protocol === 'rtsp/tcp').length], [1, 49],
    'RTSP readers are listed beside the HTTP viewer, up to the list\'s 50');
  t.ok(flv.viewerListTruncated, 'and the list says it stops short of 51');
  t.ok(listed.filter((v) => v.protocol === 'rtsp/tcp').every((v) => v.address === '127.0.0.1' && v.bytesSent > 0), 'each with its address and bytes sent');
  const page = (await fetchBytes(`${running.baseUrl}/stat.html`)).body.toString();
  t.match(page, /<span data-f="protocols\.rtsp\.viewers" data-fmt="count">50<\/span> RTSP/, '/stat.html shows the RTSP readers');
  t.match(page, /<td>127\.0\.0\.1<\/td><td>rtsp\/tcp<\/td>/, 'and lists them as viewers');
  const metrics = (await fetchBytes(`${running.baseUrl}/metrics`)).body.toString();
  t.match(metrics, /relay_protocol_viewers\{stream="test.flv",camera="test",format="flv",protocol="rtsp"\} 50/);
  t.match(metrics, /relay_protocol_bytes_out_total\{stream="test.flv",camera="test",format="flv",protocol="rtsp"\} [1-9]/);
});

t.test('a reload that removes a stream ends its RTSP sessions; the others go on', async (t) => {
  const flv = await playOverTcp(rtspPort, 'test.flv');
  const mjpg = await playOverTcp(rtspPort, 'test.mjpg');
  t.teardown(() => [flv, mjpg].forEach(({ client }) => client.close()));
  await writeFile(running.configFile, `HTTPPort 0\n${globals}${syntheticConfig({ rate: 10 }).replace(/<Stream test\.flv>[\s\S]*?<\/Stream>/, '')}`);
  await running.reload();
  await waitFor(() => running.rtsp!.server.readerCount('test.flv') === 0, 5000, 'the removed stream to lose its readers');
  t.equal((await flv.client.request('DESCRIBE', rtsp('test.flv'))).status, 404);
  const before = mjpg.client.packets.length;
  await mjpg.client.until(() => mjpg.client.packets.length > before + 5, 5000, 'the kept stream to go on');
  t.equal(running.rtsp!.server.readerCount('test.mjpg'), 1);
});

await t.test('RTSP readers coming and going leave no error or stack in the log', async (t) => {
  const rtspLines = running.logs.filter((line) => / rtsp: /.test(line) || /relay\/rtsp/.test(line));
  t.ok(rtspLines.some((line) => /RTSP reader \w+ of test\.flv from 127\.0\.0\.1 over tcp/.test(line)), 'readers are logged');
  t.same(running.logs.filter((line) => / (error|warn) /.test(line) && /rtsp/i.test(line)), []);
  t.same(running.logs.filter((line) => /\n|    at /.test(line)), [], 'one line per event, no stacks');
});

// The tests below start a relay each and look only at it (the one JPEG transcoder is counted by its arguments, which
// no synthetic camera's relay uses): they run side by side, after those above, which count every ffmpeg of this process.
t.jobs = 4;

t.test('MaxClients counts RTSP readers: 453 for a full stream, 503 for a full server, and HTTP sees them', async (t) => {
  const port = await unusedPort();
  const limited = await startTestRelay(`RTSPPort ${port}\nMaxClients 2\n${syntheticConfig({ rate: 5, extraStream: 'MaxClients 1' })}`);
  t.teardown(() => limited.stop());
  const first = await playOverTcp(port, 'test.flv');
  t.teardown(() => first.client.close());
  const client = await TestRtspClient.connect(port);
  t.teardown(() => client.close());
  const transport = { Transport: 'RTP/AVP/TCP;unicast' };
  t.equal((await client.request('SETUP', `rtsp://127.0.0.1:${port}/test.flv/trackID=0`, transport)).status, 453, 'stream full');
  const second = await client.request('SETUP', `rtsp://127.0.0.1:${port}/test.mjpg/trackID=0`, transport);
  t.equal(second.status, 200);
  // A reader counts from its PLAY: a session that only did SETUP holds no slot.
  const unplayed = await client.request('SETUP', `rtsp://127.0.0.1:${port}/test.m3u8/trackID=0`, transport);
  t.equal(unplayed.status, 200, 'a SETUP that has not played does not fill the server');
  t.equal((await client.request('PLAY', `rtsp://127.0.0.1:${port}/test.mjpg`, { Session: second.headers.get('Session')!.split(';')[0]! })).status, 200, 'second reader');
  t.equal((await client.request('PLAY', `rtsp://127.0.0.1:${port}/test.m3u8`, { Session: unplayed.headers.get('Session')!.split(';')[0]! })).status, 503, 'server full');
  t.equal((await client.request('SETUP', `rtsp://127.0.0.1:${port}/test.m3u8/trackID=0`, transport)).status, 503, 'server full at SETUP too');
  t.equal((await fetchBytes(`${limited.baseUrl}/test.mjpg`)).status, 503, 'HTTP viewers are refused too');
});

t.test('an on-demand camera starts for an RTSP reader: DESCRIBE waits for its encoder', async (t) => {
  const port = await unusedPort();
  const onDemand = await startTestRelay(`RTSPPort ${port}\n${syntheticConfig({ rate: 10, extraCamera: 'OnDemand yes\nCloseAfter 1' })}`);
  t.teardown(() => onDemand.stop());
  t.equal(onDemand.relay.feeds.get('test')!.state, 'idle');
  const stream = await ffprobe(`rtsp://127.0.0.1:${port}/test.flv`, 2, ['-rtsp_transport', 'tcp']);
  t.equal(stream.codec_name, 'h264');
  t.ok(Number(stream.nb_read_frames) >= 5, `${stream.nb_read_frames} frames`);
  await waitFor(() => onDemand.relay.feeds.get('test')!.state === 'idle', 15_000, 'the camera to go idle after the reader left');
});

t.test('RTSPPort 0 runs no RTSP server', async (t) => {
  const plain = await startTestRelay(syntheticConfig({ rate: 5 }));
  t.teardown(() => plain.stop());
  t.equal(plain.rtsp, undefined);
  t.equal(plain.relay.protocolServer('rtsp'), undefined, 'no RTSP edge');
  t.same([...plain.relay.edges].map((edge) => edge.protocol).sort(), ['webrtc', 'ws'].sort(), 'only the edges that live on HTTP');
});

t.test("an H.264 camera's MJPEG stream goes over RTSP as JPEG, decoded once for MJPEG and RTSP readers alike", async (t) => {
  const camera = await GstRtspServer.start({ codec: 'h264', fps: 10 });
  const port = await unusedPort();
  const relay = await startTestRelay(`RTSPPort ${port}\n<Camera cam>\n  Source ${camera.url}\n</Camera>\n<Stream cam.mjpg>\n  Feed cam\n</Stream>\n`);
  t.teardown(async () => {
    await relay.stop();
    await camera.stop();
  });
  const viewer = await openViewer(`${relay.baseUrl}/cam.mjpg`);
  t.teardown(() => viewer.close());
  const stream = await ffprobe(`rtsp://127.0.0.1:${port}/cam.mjpg`, 2, ['-rtsp_transport', 'tcp']);
  t.equal(stream.codec_name, 'mjpeg');
  t.ok(Number(stream.nb_read_frames) >= 5, `${stream.nb_read_frames} frames`);
  t.equal(relay.rtsp!.server.stats('cam.mjpg')!.skippedFrames, 0, 'the decoded JPEGs are ones RTP/JPEG carries');
  t.equal(childFfmpegs().filter((cmd) => cmd.includes('-c:v mjpeg') && cmd.includes('matroska')).length, 1, 'one JPEG transcoder');
});
