import t from 'tap';
import { GstRtspServer } from '../adapters/rtsp/gst-server.ts';
import { childFfmpegs, fetchBytes, openViewer, waitFor } from '../helpers/probe.ts';
import { startTestRelay } from '../helpers/relay.ts';
import { SNAPSHOT_LINGER_MS } from '../../relay/outputs/jpeg.ts';

// Guards: MJPEG and JPEG streams of a camera that sends H.264 served nothing (they only passed JPEG through).
t.test('an H.264 camera\'s MJPEG and JPEG streams get JPEGs decoded once, only while watched', async (t) => {
  const camera = await GstRtspServer.start({ codec: 'h264', fps: 10 });
  const relay = await startTestRelay(`<Camera cam>\n  Source ${camera.url}\n</Camera>
<Stream cam.mjpg>\n  Feed cam\n</Stream>\n<Stream cam.jpg>\n  Feed cam\n</Stream>\n`);
  t.teardown(async () => {
    await relay.stop();
    await camera.stop();
  });
  const transcoders = (): number => childFfmpegs().filter((cmd) => cmd.includes('-c:v mjpeg') && cmd.includes('matroska')).length;
  await waitFor(() => relay.relay.feeds.get('cam')!.counters.framesIn > 10, 10_000, 'H.264 from the camera');
  t.equal(transcoders(), 0, 'no JPEG transcoder while nobody watches');
  const viewers = await Promise.all([1, 2, 3].map(() => openViewer(`${relay.baseUrl}/cam.mjpg`)));
  await waitFor(() => viewers.every((viewer) => viewer.bytes > 20_000), 15_000, 'MJPEG at three viewers');
  t.match(viewers[0]!.head.toString('latin1'), /Content-Type: image\/jpeg/);
  t.ok(viewers[0]!.head.includes(Buffer.from([0xff, 0xd8])), 'JPEG data in the parts');
  const snapshot = await fetchBytes(`${relay.baseUrl}/cam.jpg`);
  t.equal(snapshot.status, 200);
  t.same([...snapshot.body.subarray(0, 2)], [0xff, 0xd8], 'the snapshot is a JPEG');
  t.equal(transcoders(), 1, 'one transcoder for three MJPEG viewers and the snapshot');
  for (const viewer of viewers) viewer.close();
  // The snapshot keeps the view for its linger (so polled snapshots stay current): it stops once both are gone.
  await waitFor(() => transcoders() === 0, SNAPSHOT_LINGER_MS + 5000, 'the transcoder to stop when the last viewer leaves and the snapshot\'s linger ends');
});
