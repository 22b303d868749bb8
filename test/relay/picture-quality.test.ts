// Guards against an HTTP MJPEG camera without VideoFrameRate encoding at ~30 kbit/s of 1000 (21 dB): ffmpeg took the 1 ms time base for 1000 fps.
import t from 'tap';
import { makeJpegFrames } from '../helpers/controllable-camera.ts';
import { MjpegCamera } from '../helpers/mjpeg-camera.ts';
import { captureStream, decodeLuma, matchedPsnr, packetKbps, videoPackets } from '../helpers/picture.ts';
import { waitFor } from '../helpers/probe.ts';
import { startTestRelay } from '../helpers/relay.ts';

const WIDTH = 640;
const HEIGHT = 480;
/** Luma PSNR floor of the decoded FLV against the camera's JPEGs (testsrc2, 640x480, 25 fps); measured 37-41 dB. */
const PSNR_FLOOR_DB = 32;
/** The encoded rate must stay within this band of VideoBitRate once rate control has settled. */
const RATE_BAND = [0.6, 1.3] as const;
/** Seconds of each capture left out while the encoder's rate control settles. */
const SETTLE_SECONDS = 1.5;

t.test('an HTTP MJPEG camera with no VideoFrameRate line is encoded at the configured rate and looks like the camera', async (t) => {
  // 50 distinct frames of a busy moving pattern, as an mjpg-streamer camera sends them (25 fps, a few ms of jitter).
  const jpegs = makeJpegFrames(50, `${WIDTH}x${HEIGHT}`, 3, 'testsrc2');
  const camera = await MjpegCamera.start({ frames: jpegs, rate: 25, jitterMs: 4 });
  t.teardown(() => camera.close());
  const relay = await startTestRelay(`
<Camera door>
  Source ${camera.url}
</Camera>
<Stream door.flv>
  Feed door
</Stream>
<Stream door800.flv>
  Feed door
  VideoBitRate 800
</Stream>
`);
  t.teardown(() => relay.stop());
  await waitFor(async () => (await fetch(`${relay.baseUrl}/door.flv`, { method: 'HEAD' })).ok, 10_000, 'the stream');
  const sources = await decodeLuma(Buffer.concat(jpegs), 'mjpeg', WIDTH, HEIGHT);
  const [plain, at800] = await Promise.all([captureStream(`${relay.baseUrl}/door.flv`, 5000), captureStream(`${relay.baseUrl}/door800.flv`, 5000)]);
  for (const [name, flv, configuredKbps] of [['no VideoBitRate line (1000)', plain, 1000], ['VideoBitRate 800', at800, 800]] as const) {
    const packets = await videoPackets(flv, 'flv');
    const from = packets[0]!.pts + SETTLE_SECONDS;
    const kbps = packetKbps(packets, from);
    t.ok(kbps >= configuredKbps * RATE_BAND[0] && kbps <= configuredKbps * RATE_BAND[1], `${name}: ${kbps.toFixed(0)} kbit/s of ${configuredKbps}`);
    const decoded = await decodeLuma(flv, 'flv', WIDTH, HEIGHT);
    const settled = decoded.slice(packets.findIndex((packet) => packet.pts >= from));
    const psnr = matchedPsnr(settled, sources, WIDTH);
    const mean = psnr.reduce((sum, value) => sum + value, 0) / psnr.length;
    t.ok(mean >= PSNR_FLOOR_DB, `${name}: mean luma PSNR ${mean.toFixed(1)} dB over ${psnr.length} frames (floor ${PSNR_FLOOR_DB})`);
  }
});
