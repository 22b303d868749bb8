import { spawn } from 'node:child_process';
import t from 'tap';
import { startTestEncodedSource } from '../../helpers/encoded-source.ts';
import { h264RtpSource, jpegRtpSource } from '../../../relay/rtsp/sources.ts';
import { countingSource, LIMITS, startJpegFeed, startServer } from './fixtures.ts';

const encoded = startTestEncodedSource({ size: '320x240', rate: 25, gop: 25 });
const jpegs = startJpegFeed({ size: '320x240', rate: 10 });
const server = await startServer();
server.mount('cam.flv', h264RtpSource(countingSource(encoded.hub)), LIMITS);
server.mount('cam.mjpg', jpegRtpSource(jpegs, 0, () => {}), LIMITS);
t.teardown(async () => {
  await server.close();
  encoded.stop();
  jpegs.stop();
});

/** Runs a gst-launch pipeline from GStreamer's rtspsrc for `ms`, and counts the decoded frames its fakesink saw. */
function decodedFrames(pipeline: string[], ms: number): Promise<{ frames: number; errors: string[] }> {
  return new Promise((resolve) => {
    const child = spawn('gst-launch-1.0', ['-v', ...pipeline, '!', 'fakesink', 'silent=false'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let frames = 0;
    const errors: string[] = [];
    let rest = '';
    const read = (chunk: Buffer): void => {
      const lines = (rest + chunk.toString()).split('\n');
      rest = lines.pop() ?? '';
      for (const line of lines) {
        if (/last-message = chain .*\(115200 bytes/.test(line)) frames++; // one 320x240 I420 picture
        if (/^ERROR/.test(line)) errors.push(line);
      }
    };
    child.stdout.on('data', read);
    child.stderr.on('data', read);
    const timer = setTimeout(() => child.kill('SIGKILL'), ms);
    child.on('close', () => {
      clearTimeout(timer);
      resolve({ frames, errors });
    });
  });
}

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
