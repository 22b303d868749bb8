import { spawn } from 'node:child_process';
import t from 'tap';
import { ffprobe, openViewer, waitFor, type OpenViewer } from '../helpers/probe.ts';
import { startTestRelay } from '../helpers/relay.ts';
import { GstRtspServer } from './rtsp/gst-server.ts';
import { makeCanonJpegs } from './vbc/canon-jpegs.ts';
import { VbcSimulator } from './vbc/simulator.ts';
import { unusedPort } from '../helpers/ports.ts';

// Each camera kind through the whole relay: 50 viewers over two streams, and the camera sees one connection.


async function fiftyViewers(baseUrl: string, paths: [string, string]): Promise<OpenViewer[]> {
  const viewers = await Promise.all(Array.from({ length: 50 }, (_, i) => openViewer(`${baseUrl}${paths[i % 2]}`)));
  await waitFor(() => viewers.every((viewer) => viewer.bytes > 1000), 20_000, 'video at all 50 viewers');
  return viewers;
}

t.test('HTTP MJPEG: ffmpeg serving one client feeds 50 relay viewers', async (t) => {
  const port = await unusedPort();
  // ffmpeg's HTTP server with -listen 1 accepts a single client: a second upstream connection would be refused.
  const camera = spawn('ffmpeg', ['-v', 'error', '-re', '-f', 'lavfi', '-i', 'testsrc=size=320x240:rate=10', '-c:v', 'mjpeg', '-q:v', '8',
    '-f', 'mpjpeg', '-listen', '1', `http://127.0.0.1:${port}/stream`], { stdio: 'ignore' });
  t.teardown(() => camera.kill('SIGKILL'));
  await new Promise((resolve) => setTimeout(resolve, 500));
  const relay = await startTestRelay(`<Camera cam>\n Source http://127.0.0.1:${port}/stream\n</Camera>\n<Stream cam.mjpg>\n Feed cam\n</Stream>\n<Stream cam.flv>\n Feed cam\n VideoBitRate 300\n</Stream>\n`);
  t.teardown(() => relay.stop());
  const viewers = await fiftyViewers(relay.baseUrl, ['/cam.mjpg', '/cam.flv']);
  const probed = await ffprobe(`${relay.baseUrl}/cam.flv`, 2);
  t.equal(`${probed.codec_name} ${probed.width}x${probed.height}`, 'h264 320x240');
  t.equal(relay.relay.feeds.get('cam')!.status.restarts, 0, 'the single upstream connection never had to be retried');
  t.equal(camera.exitCode, null, 'the single-client camera is still serving');
  for (const viewer of viewers) viewer.close();
});

t.test('Canon VB-C10: pulled at 6 fps, served at 4 fps 320x240 (the classic deployment), one connection', async (t) => {
  const jpegs = await makeCanonJpegs(12, '384x288');
  const camera = await VbcSimulator.start({ jpegs });
  t.teardown(() => camera.close());
  const relay = await startTestRelay(`<Camera lobby>\n Source ${camera.url}\n InputFrameRate 6\n VBCImageSize 384x288\n</Camera>
<Stream lobby.flv>\n Feed lobby\n VideoFrameRate 4\n VideoSize 320x240\n VideoBitRate 256\n</Stream>\n<Stream lobby.mjpg>\n Feed lobby\n</Stream>\n`);
  t.teardown(() => relay.stop());
  const viewers = await fiftyViewers(relay.baseUrl, ['/lobby.mjpg', '/lobby.flv']);
  const probed = await ffprobe(`${relay.baseUrl}/lobby.flv`, 3);
  t.equal(`${probed.codec_name} ${probed.width}x${probed.height} ${probed.r_frame_rate}`, 'h264 320x240 4/1');
  const feed = relay.relay.feeds.get('lobby')!;
  const before = feed.counters.framesIn;
  await new Promise((resolve) => setTimeout(resolve, 3000));
  const fps = (feed.counters.framesIn - before) / 3;
  t.ok(fps >= 5 && fps <= 7, `pulled at ${fps.toFixed(1)} fps`);
  t.equal(camera.connections, 1);
  for (const viewer of viewers) viewer.close();
});

t.test('RTSP H.264 from GStreamer: served with VideoCodec copy and transcoded to HLS, one connection', async (t) => {
  const camera = await GstRtspServer.start({ codec: 'h264', fps: 10 });
  t.teardown(() => camera.stop());
  const relay = await startTestRelay(`<Camera gst>\n Source ${camera.url}\n</Camera>
<Stream gst.flv>\n Feed gst\n VideoCodec copy\n</Stream>\n<Stream gst.m3u8>\n Feed gst\n VideoBitRate 300\n HLSSegmentTime 1\n</Stream>\n`);
  t.teardown(() => relay.stop());
  const viewers = await Promise.all(Array.from({ length: 50 }, () => openViewer(`${relay.baseUrl}/gst.flv`)));
  await waitFor(() => viewers.every((viewer) => viewer.bytes > 1000), 20_000, 'video at all 50 viewers');
  const copied = await ffprobe(`${relay.baseUrl}/gst.flv`, 2);
  t.equal(`${copied.codec_name} ${copied.width}x${copied.height}`, 'h264 320x240', 'the camera\'s H.264, not re-encoded');
  const hls = await ffprobe(`${relay.baseUrl}/gst.m3u8`, 2);
  t.equal(hls.codec_name, 'h264');
  t.equal(camera.clientConnections, 1);
  for (const viewer of viewers) viewer.close();
});
