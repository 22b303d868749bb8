// Guards what viewers of an RTSP H.264 camera get, passed through (VideoCodec copy) and transcoded, against its frames.
import t from 'tap';
import { GstRtspServer } from '../../adapters/rtsp/gst-server.ts';
import { waitFor } from '../../helpers/probe.ts';
import { captureVideo, measureCapture } from '../../helpers/quality-capture.ts';
import { gstPatternReference } from '../../helpers/quality-sources.ts';
import { floorFailures, type Expectation } from '../../helpers/quality.ts';
import { startTestRelay } from '../../helpers/relay.ts';

/** A busy moving pattern: zone-plate rings that shift every frame (it repeats every 128 frames). */
const PATTERN = 'pattern=zone-plate kx2=8 ky2=8 kt=2';
/** The camera's own H.264 (x264 at GStreamer's default 2048 kbit/s): nearly the source pattern. */
const COPIED: Expectation = { width: 320, height: 240, fps: 25, psnr: 35, ssim: 0.95, everyFrame: true };
const TRANSCODED: Expectation = { width: 320, height: 240, fps: 25, psnr: 33, ssim: 0.93, kbps: 500, everyFrame: true };

const camera = await GstRtspServer.start({ codec: 'h264', fps: 25, pattern: PATTERN });
t.teardown(() => camera.stop());
const relay = await startTestRelay(`
<Camera yard>
  Source ${camera.url}
</Camera>
<Stream yard.flv>
  Feed yard
  VideoCodec copy
</Stream>
<Stream yard-encoded.flv>
  Feed yard
  VideoBitRate 500
</Stream>
`);
t.teardown(() => relay.stop());
// The pattern is a function of the camera's running time; it loops, so a few seconds of it cover the whole test.
const reference = await gstPatternReference(PATTERN, 320, 240, 25, 300);
await waitFor(async () => (await fetch(`${relay.baseUrl}/stat.json`).then((r) => r.text())).includes('"live"'), 15_000, 'the camera to be live');

t.test('copy hands viewers the camera\'s frames; a transcoded stream looks like them at the configured bit rate', async (t) => {
  const captures = await Promise.all([
    captureVideo(`${relay.baseUrl}/yard.flv`, { seconds: 4 }),
    captureVideo(`${relay.baseUrl}/yard-encoded.flv`, { seconds: 4 }),
  ]);
  const copied = await measureCapture(captures[0], reference);
  const encoded = await measureCapture(captures[1], reference);
  t.same(floorFailures(copied, COPIED), [], `copy: ${copied.psnrMean.toFixed(1)} dB, ${copied.kbps.toFixed(0)} kbit/s, ${copied.fps.toFixed(2)} fps`);
  t.same(floorFailures(encoded, TRANSCODED), [], `transcoded: ${encoded.psnrMean.toFixed(1)} dB, ${encoded.kbps.toFixed(0)} kbit/s, ${encoded.fps.toFixed(2)} fps`);
});
