// Guards: an MJPEG camera with optimised Huffman tables served over RTSP as JPEG sent nothing after PLAY (all frames skipped).
import { execFileSync, spawn } from 'node:child_process';
import t from 'tap';
import { JpegSplitter } from '../../../media/jpeg/splitter.ts';
import { parseJpegForRtp } from '../../../media/rtp/jpeg-packetizer.ts';
import { FakeCamera, part, scripted } from '../../adapters/http/fake-camera.ts';
import { childFfmpegs, fetchBytes, waitFor } from '../../helpers/probe.ts';
import { unusedPort } from '../../helpers/ports.ts';
import { startTestRelay } from '../../helpers/relay.ts';
import { decodedFrames } from './fixtures.ts';

const WIDTH = 320;
const HEIGHT = 240;
/** Luma PSNR floor of a picture read over RTSP against the camera's own JPEG: the camera's q 6 JPEGs re-encoded at q 3 measured 58 dB. */
const PSNR_FLOOR_DB = 30;

/** ffmpeg's JPEG encoder at its defaults (`-huffman optimal`), as most cameras write them: a busy moving pattern. */
const cameraJpegs = new JpegSplitter(1 << 24).push(execFileSync('ffmpeg', ['-v', 'error', '-f', 'lavfi', '-i', `testsrc2=size=${WIDTH}x${HEIGHT}:rate=10`,
  '-frames:v', '20', '-c:v', 'mjpeg', '-q:v', '6', '-pix_fmt', 'yuvj420p', '-f', 'mjpeg', 'pipe:1']));

/** Grey pictures, decoded by ffmpeg from JPEGs on its input or from a URL. */
function greyPictures(args: string[], input?: Buffer): Promise<Buffer[]> {
  return new Promise((resolve, reject) => {
    const child = spawn('ffmpeg', ['-v', 'error', ...args, '-fps_mode', 'passthrough', '-f', 'rawvideo', '-pix_fmt', 'gray', 'pipe:1'], { stdio: ['pipe', 'pipe', 'ignore'] });
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.stdout.on('data', (chunk: Buffer) => chunks.push(chunk));
    child.stdin.on('error', () => {});
    child.stdin.end(input);
    child.on('error', reject);
    child.on('close', () => {
      clearTimeout(timer);
      const all = Buffer.concat(chunks);
      const size = WIDTH * HEIGHT;
      resolve(Array.from({ length: Math.floor(all.length / size) }, (_, index) => all.subarray(index * size, (index + 1) * size)));
    });
  });
}

function psnr(a: Buffer, b: Buffer): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += (a[i]! - b[i]!) ** 2;
  return sum === 0 ? 99 : 10 * Math.log10((255 * 255) / (sum / a.length));
}

t.test('an MJPEG camera with optimised Huffman tables is re-encoded once for RTSP readers, who get pictures like the camera\'s', async (t) => {
  t.same(cameraJpegs.map((jpeg) => parseJpegForRtp(jpeg)).filter((parsed) => !('skip' in parsed && parsed.skip === 'huffman')), [],
    'every camera JPEG has optimised Huffman tables, which RTP/JPEG cannot carry as they are');
  const camera = await FakeCamera.start({
    '/video.mjpg': scripted({ headers: { 'Content-Type': 'multipart/x-mixed-replace; boundary=myboundary' }, pieces: (i) => part(cameraJpegs[i % cameraJpegs.length]!), intervalMs: 100 }),
  });
  const rtspPort = await unusedPort();
  const relay = await startTestRelay(`RTSPPort ${rtspPort}\n<Camera cam>\n  Source ${camera.url('/video.mjpg')}\n</Camera>\n<Stream cam.mjpg>\n  Feed cam\n</Stream>\n`);
  t.teardown(async () => {
    await relay.stop();
    await camera.close();
  });
  const url = `rtsp://127.0.0.1:${rtspPort}/cam.mjpg`;
  const reencoders = (): number => childFfmpegs().filter((cmd) => cmd.includes('-huffman default') && cmd.includes('force_original_aspect_ratio')).length;
  await waitFor(() => relay.relay.feeds.get('cam')!.counters.framesIn > 5, 10_000, 'the camera\'s JPEGs');
  t.equal(reencoders(), 0, 'no re-encoder while nobody reads over RTSP');

  let mostReencoders = 0;
  const sampler = setInterval(() => (mostReencoders = Math.max(mostReencoders, reencoders())), 200);
  const [received, source, gst] = await Promise.all([
    greyPictures(['-rtsp_transport', 'tcp', '-i', url, '-frames:v', '25']),
    greyPictures(['-f', 'mjpeg', '-i', 'pipe:0'], Buffer.concat(cameraJpegs)),
    decodedFrames(['rtspsrc', `location=${url}`, 'protocols=tcp', 'latency=0', '!', 'rtpjpegdepay', '!', 'jpegdec', '!', 'videoconvert', '!', 'video/x-raw,format=I420'], 8000),
  ]);
  clearInterval(sampler);
  t.equal(mostReencoders, 1, 'one re-encoder for both readers');
  t.equal(received.length, 25, 'ffmpeg decoded the 25 pictures it asked for');
  t.ok(new Set(received.map((picture) => picture.toString('base64'))).size >= 15, 'and they move');
  // The camera loops its 20 pictures: each received picture is compared with the camera picture it matches best.
  const scores = received.map((picture) => Math.max(...source.map((original) => psnr(picture, original))));
  const worst = Math.min(...scores);
  t.comment(`RTSP JPEG: ${received.length} pictures, luma PSNR against the camera's JPEGs min ${worst.toFixed(1)} dB, mean ${(scores.reduce((a, b) => a + b, 0) / scores.length).toFixed(1)} dB`);
  t.ok(scores.length > 0 && worst >= PSNR_FLOOR_DB, `every picture at least ${PSNR_FLOOR_DB} dB (worst ${worst.toFixed(1)} dB)`);
  t.same(gst.errors, [], 'GStreamer rtspsrc reads it without error');
  t.ok(gst.frames >= 15, `GStreamer decoded ${gst.frames} pictures in 8 s`);
  const stat = JSON.parse((await fetchBytes(`${relay.baseUrl}/stat.json`)).body.toString());
  t.equal(stat.streams.find((stream: { name: string }) => stream.name === 'cam.mjpg').protocols.rtsp.skippedFrames, 0, 'no frame skipped');
  await waitFor(() => reencoders() === 0, 10_000, 'the re-encoder to stop when the last RTSP reader leaves');
  t.same(relay.logs.filter((line) => /\b(warn|error)\b/.test(line)), [], 'no warning logged');
});
