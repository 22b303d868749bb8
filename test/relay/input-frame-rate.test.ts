// Guards against InputFrameRate 10 on a 25 fps camera keeping 8.3 fps: each frame was kept a whole interval after the last.
import t from 'tap';
import { makeJpegFrames } from '../helpers/controllable-camera.ts';
import { MjpegCamera } from '../helpers/mjpeg-camera.ts';
import { captureStream, packetFps, videoPackets } from '../helpers/picture.ts';
import { waitFor } from '../helpers/probe.ts';
import { startTestRelay } from '../helpers/relay.ts';

t.test('InputFrameRate 10 on a 25 fps HTTP MJPEG camera: the encoded stream runs at 10 fps within 5%', async (t) => {
  const camera = await MjpegCamera.start({ frames: makeJpegFrames(25, '320x240', 8, 'testsrc2'), rate: 25, jitterMs: 4 });
  t.teardown(() => camera.close());
  const relay = await startTestRelay(`
<Camera yard>
  Source ${camera.url}
  InputFrameRate 10
</Camera>
<Stream yard.flv>
  Feed yard
  VideoBitRate 300
</Stream>
`);
  t.teardown(() => relay.stop());
  await waitFor(async () => (await fetch(`${relay.baseUrl}/yard.flv`, { method: 'HEAD' })).ok, 10_000, 'the stream');
  const packets = await videoPackets(await captureStream(`${relay.baseUrl}/yard.flv`, 5000), 'flv');
  const fps = packetFps(packets, packets[0]!.pts + 1);
  t.ok(fps >= 9.5 && fps <= 10.5, `${fps.toFixed(2)} fps out of InputFrameRate 10 (${packets.length} frames)`);
});
