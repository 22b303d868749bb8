// Guards: MJPEG wrote each part's boundary just before the next frame, so a browser painted every frame one frame period late.
import { get } from 'node:http';
import t from 'tap';
import { ControllableCamera, makeJpegFrames, registryWith } from '../helpers/controllable-camera.ts';
import { startTestRelay } from '../helpers/relay.ts';
import { decodedFrames } from './rtsp/fixtures.ts';

const BOUNDARY = Buffer.from('--relayframe\r\n', 'latin1');

/** Reads an MJPEG response for `ms`, keeping every byte with the time it arrived. */
function readTimed(url: string, ms: number): Promise<{ body: Buffer; arrivedAt: (offset: number) => number; contentType: string }> {
  return new Promise((resolve, reject) => {
    const chunks: Array<{ end: number; at: number }> = [];
    const parts: Buffer[] = [];
    let length = 0;
    const request = get(url, (response) => {
      response.on('data', (chunk: Buffer) => {
        parts.push(chunk);
        length += chunk.length;
        chunks.push({ end: length, at: performance.now() });
      });
      response.on('error', () => {});
      setTimeout(() => {
        request.destroy();
        const arrivedAt = (offset: number): number => chunks.find((chunk) => chunk.end > offset)!.at;
        resolve({ body: Buffer.concat(parts), arrivedAt, contentType: String(response.headers['content-type']) });
      }, ms);
    });
    request.on('error', reject);
  });
}

t.test('each MJPEG part is closed by the next boundary as soon as its frame is written, not when the next frame comes', async (t) => {
  const camera = new ControllableCamera(makeJpegFrames(10), 2);
  const relay = await startTestRelay('<Camera slow>\n  Source ctl://slow\n</Camera>\n<Stream slow.mjpg>\n  Feed slow\n</Stream>\n', { adapters: registryWith({ slow: camera }) });
  t.teardown(() => relay.stop());
  const { body, arrivedAt, contentType } = await readTimed(`${relay.baseUrl}/slow.mjpg`, 3200);
  t.equal(contentType, 'multipart/x-mixed-replace; boundary=relayframe');
  t.same(body.subarray(0, BOUNDARY.length), BOUNDARY, 'the stream opens with a boundary');
  const delays: number[] = [];
  for (let at = body.indexOf(Buffer.from([0xff, 0xd9])); at !== -1; at = body.indexOf(Buffer.from([0xff, 0xd9]), at + 2)) {
    if (!body.subarray(at + 2, at + 4).equals(Buffer.from('\r\n'))) continue; // not a part's end
    const boundary = body.indexOf(BOUNDARY, at + 2);
    if (boundary === -1) break; // the last frame read: its boundary may still be on the way
    t.equal(boundary, at + 4, 'the boundary follows the frame\'s CR LF directly');
    delays.push(arrivedAt(boundary + BOUNDARY.length - 1) - arrivedAt(at + 1));
  }
  t.comment(`boundary after frame: ${delays.map((ms) => ms.toFixed(1)).join(', ')} ms`);
  t.ok(delays.length >= 4, `${delays.length} frames closed in 3.2 s at 2 fps`);
  t.ok(delays.every((ms) => ms < 100), `each frame's closing boundary arrived within 100 ms of it (frames every 500 ms): ${delays.map(Math.round).join(', ')} ms`);
});

t.test('GStreamer\'s multipartdemux reads the MJPEG stream, boundary after each frame, and decodes every part', async (t) => {
  const camera = new ControllableCamera(makeJpegFrames(10), 10);
  const relay = await startTestRelay('<Camera cam>\n  Source ctl://cam\n</Camera>\n<Stream cam.mjpg>\n  Feed cam\n</Stream>\n', { adapters: registryWith({ cam: camera }) });
  t.teardown(() => relay.stop());
  const { frames, errors } = await decodedFrames(['souphttpsrc', `location=${relay.baseUrl}/cam.mjpg`, 'is-live=true', '!', 'multipartdemux', '!', 'jpegdec',
    '!', 'videoconvert', '!', 'video/x-raw,format=I420'], 4000);
  t.same(errors, []);
  t.ok(frames >= 15, `${frames} pictures decoded in 4 s at 10 fps`);
});
