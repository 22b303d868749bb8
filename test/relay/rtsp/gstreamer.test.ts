import t from 'tap';
import { startTestEncodedSource } from '../../helpers/encoded-source.ts';
import { h264RtpPayloader, jpegRtpPayloader } from '../../../relay/rtsp/rtp-payloaders.ts';
import { countingSource, decodedFrames, LIMITS, startJpegFeed, startServer } from './fixtures.ts';

const encoded = startTestEncodedSource({ size: '320x240', rate: 25, gop: 25 });
const jpegs = startJpegFeed({ size: '320x240', rate: 10 });
const server = await startServer();
server.mount('cam.flv', h264RtpPayloader(countingSource(encoded.hub)), LIMITS);
server.mount('cam.mjpg', jpegRtpPayloader(jpegs, 0, () => {}), LIMITS);
t.teardown(async () => {
  await server.close();
  encoded.stop();
  jpegs.stop();
});

t.test("GStreamer's rtspsrc plays the H.264 stream over TCP and decodes it", async (t) => {
  const { frames, errors } = await decodedFrames(['rtspsrc', `location=rtsp://127.0.0.1:${server.port}/cam.flv`, 'protocols=tcp', 'latency=0',
    '!', 'rtph264depay', '!', 'h264parse', '!', 'avdec_h264'], 6000);
  t.same(errors, []);
  t.ok(frames >= 50, `${frames} pictures decoded in 6 s at 25 fps`);
});

t.test("GStreamer's rtspsrc plays the JPEG stream over UDP and decodes it", async (t) => {
  const { frames, errors } = await decodedFrames(['rtspsrc', `location=rtsp://127.0.0.1:${server.port}/cam.mjpg`, 'protocols=udp', 'latency=0',
    '!', 'rtpjpegdepay', '!', 'jpegdec', '!', 'videoconvert', '!', 'video/x-raw,format=I420'], 6000);
  t.same(errors, []);
  t.ok(frames >= 20, `${frames} pictures decoded in 6 s at 10 fps`);
});
