// Guards the most ordinary setup: an HTTP MJPEG camera with no VideoFrameRate line was encoded at 3% of its bit rate (21 dB).
import t from 'tap';
import { BenchCamera, makeJpegs } from '../../../bench/camera.ts';
import { waitFor } from '../../helpers/probe.ts';
import { captureVideo, DeliveryLog, hlsSegmentDurations, jpegsToGray, type Capture, measureCapture, measureMjpeg, measureSnapshots } from '../../helpers/quality-capture.ts';
import { testsrcReference } from '../../helpers/quality-sources.ts';
import { asDelivered, floorFailures, type Expectation, type FrameTiming } from '../../helpers/quality.ts';
import { startTestRelay } from '../../helpers/relay.ts';

const SEGMENT_SECONDS = 2;
/** The encoder's keyframe interval for FLV (HLS puts keyframes on segment boundaries, also 2 s here). */
const KEYFRAME_SECONDS = 2;
/** Floors for the camera's 640x480 25 fps testsrc2 JPEGs encoded at 1000 kbit/s (a healthy encoder gives about 43 dB). */
const ENCODED: Expectation = { width: 640, height: 480, fps: 25, psnr: 35, ssim: 0.95, kbps: 1000, everyFrame: true };
/** The synthetic camera, 320x240 testsrc2 at 25 fps, encoded at 400 kbit/s. */
const SYNTHETIC = { width: 320, height: 240, rate: 25, pattern: 'testsrc2' };
const SYNTHETIC_ENCODED: Expectation = { width: 320, height: 240, fps: 25, psnr: 35, ssim: 0.95, kbps: 400, everyFrame: true };
/** The camera's own JPEGs are passed through untouched, every one: identical pictures at the camera's rate. */
const PASSED: Expectation = { width: 640, height: 480, fps: 25, psnr: 60, everyFrame: true, timing: 'rate' };

const jpegs = await makeJpegs(640, 480);
const camera = new BenchCamera(jpegs, 25);
await camera.start();
t.teardown(() => camera.stop());
// What the camera really sends, read directly from before the relay starts: on a loaded machine it may send late, slow
// or in bursts, and a capture's first frames (the kept group, earlier HLS segments) were sent before the capture began.
const cameraDelivery = new DeliveryLog(camera.url);
t.teardown(() => cameraDelivery.stop());
const reference = { frames: await jpegsToGray(jpegs), loop: jpegs.length, rate: 25 };
// The config a new operator writes from the README: no VideoFrameRate, so the encoder must take the camera's rate.
const relay = await startTestRelay(`
<Camera door>
  Source ${camera.url}
</Camera>
<Stream door.flv>
  Feed door
  VideoBitRate 1000
</Stream>
<Stream door.m3u8>
  Feed door
  VideoBitRate 1000
  HLSSegmentTime ${SEGMENT_SECONDS}
</Stream>
<Stream door.mjpg>
  Feed door
</Stream>
<Stream door.jpg>
  Feed door
</Stream>
<Camera synthetic>
  Source testsrc://?size=320x240&rate=25&pattern=testsrc2
</Camera>
<Stream synthetic.flv>
  Feed synthetic
  VideoBitRate 400
</Stream>
<Stream synthetic.mjpg>
  Feed synthetic
</Stream>
`);
const relayStarted = Date.now();
t.teardown(() => relay.stop());
const syntheticDelivery = new DeliveryLog(`${relay.baseUrl}/synthetic.mjpg`);
t.teardown(() => syntheticDelivery.stop());
await waitFor(async () => (await fetch(`${relay.baseUrl}/door.jpg`)).status === 200, 15_000, 'the camera to be live');

t.test('FLV and HLS look like the camera at the configured bit rate and rate; HLS segments follow HLSSegmentTime', async (t) => {
  const started = DeliveryLog.now();
  const ended = (capture: Capture): { capture: Capture; end: number } => ({ capture, end: DeliveryLog.now() });
  const [flvCapture, hlsCapture, segments] = await Promise.all([
    captureVideo(`${relay.baseUrl}/door.flv`, { seconds: 5 }).then(ended),
    captureVideo(`${relay.baseUrl}/door.m3u8`, { seconds: 5 }).then(ended),
    hlsSegmentDurations(`${relay.baseUrl}/door.m3u8`, 9),
  ]);
  const flv = await measureCapture(flvCapture.capture, reference);
  const hls = await measureCapture(hlsCapture.capture, reference);
  // FLV starts with the kept group (one keyframe interval at most); ffmpeg starts HLS three segments before the live edge.
  const flvSent = cameraDelivery.timingOf(flv, started - KEYFRAME_SECONDS - 0.5, flvCapture.end);
  const hlsSent = cameraDelivery.timingOf(hls, started - 4 * SEGMENT_SECONDS - 0.5, hlsCapture.end);
  const delivery = (sent: FrameTiming): string => `the camera sent ${sent.fps.toFixed(2)} fps, gaps up to ${sent.maxGapMs.toFixed(0)} ms`;
  t.same(floorFailures(flv, asDelivered(ENCODED, flvSent)), [], `FLV: ${flv.psnrMean.toFixed(1)} dB, ${flv.kbps.toFixed(0)} kbit/s, ${flv.fps.toFixed(2)} fps (${delivery(flvSent)})`);
  t.same(floorFailures(hls, asDelivered(ENCODED, hlsSent)), [], `HLS: ${hls.psnrMean.toFixed(1)} dB, ${hls.kbps.toFixed(0)} kbit/s, ${hls.fps.toFixed(2)} fps (${delivery(hlsSent)})`);
  t.equal(segments.target, SEGMENT_SECONDS, 'EXT-X-TARGETDURATION is the setting');
  t.ok(segments.durations.length >= 3, `segments seen: ${segments.durations.join(', ')}`);
  const off = segments.durations.filter((d) => Math.abs(d - SEGMENT_SECONDS) > 0.1 * SEGMENT_SECONDS);
  t.same(off, [], `every segment lasts ${SEGMENT_SECONDS} s within 10%: ${segments.durations.join(', ')}`);
});

t.test('the synthetic camera\'s FLV looks like its pattern at the configured bit rate and rate', async (t) => {
  const seconds = 4;
  // The pattern never repeats: the reference is every frame the camera can have drawn by the end of the capture.
  const frames = Math.ceil(((Date.now() - relayStarted) / 1000 + seconds + 8) * SYNTHETIC.rate);
  const reference = await testsrcReference(SYNTHETIC, frames);
  // The synthetic camera's own JPEGs, as the relay passes them on, show how it delivered (a starved ffmpeg runs slow),
  // from the kept group's start (one keyframe interval at most before the capture) to the capture's end.
  const started = DeliveryLog.now();
  const capture = await captureVideo(`${relay.baseUrl}/synthetic.flv`, { seconds });
  const sent = syntheticDelivery.timing(started - KEYFRAME_SECONDS - 0.5, DeliveryLog.now());
  const synthetic = await measureCapture(capture, reference);
  const delivery = `the camera sent ${sent.fps.toFixed(2)} fps, gaps up to ${sent.maxGapMs.toFixed(0)} ms`;
  t.same(floorFailures(synthetic, asDelivered(SYNTHETIC_ENCODED, sent)), [], `synthetic FLV: ${synthetic.psnrMean.toFixed(1)} dB, ${synthetic.kbps.toFixed(0)} kbit/s, ${synthetic.fps.toFixed(2)} fps (${delivery})`);
});

t.test('MJPEG and JPEG viewers get the camera\'s own pictures, MJPEG at its rate', async (t) => {
  const mjpeg = await measureMjpeg(`${relay.baseUrl}/door.mjpg`, reference, 3);
  t.same(floorFailures(mjpeg, PASSED), [], `MJPEG: ${mjpeg.psnrMean.toFixed(1)} dB, ${mjpeg.fps.toFixed(2)} fps`);
  const snapshots = await measureSnapshots(`${relay.baseUrl}/door.jpg`, reference, 8, 150);
  t.ok(snapshots.psnrMin >= PASSED.psnr, `every snapshot is a camera frame: worst ${snapshots.psnrMin.toFixed(1)} dB`);
  t.same([snapshots.width, snapshots.height], [640, 480]);
});
