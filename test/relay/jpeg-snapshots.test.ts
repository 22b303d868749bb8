// Guards: after an H.264 camera's first MJPEG viewer left, its JPEG snapshots answered 503 "no frame for N s" forever.
import t from 'tap';
import { GstRtspServer } from '../adapters/rtsp/gst-server.ts';
import { childFfmpegs, fetchBytes, openViewer, waitFor } from '../helpers/probe.ts';
import { startTestRelay } from '../helpers/relay.ts';
import { SNAPSHOT_LINGER_MS } from '../../relay/outputs/jpeg.ts';

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const transcoders = (): number => childFfmpegs().filter((cmd) => cmd.includes('-c:v mjpeg') && cmd.includes('matroska')).length;

t.test('snapshots of an H.264 camera restart its JPEG view after an MJPEG viewer came and went, and keep it while polled', async (t) => {
  const camera = await GstRtspServer.start({ codec: 'h264', fps: 25 });
  // Timeout 3: the stale-frame limit is reached after 4 s of waiting instead of the default's 11 s.
  const relay = await startTestRelay(`<Camera village>\n  Source ${camera.url}\n  Timeout 3\n</Camera>
<Stream village.mjpg>\n  Feed village\n</Stream>\n<Stream village.jpg>\n  Feed village\n</Stream>\n`);
  t.teardown(async () => {
    await relay.stop();
    await camera.stop();
  });
  await waitFor(() => relay.relay.feeds.get('village')!.counters.framesIn > 25, 15_000, 'H.264 from the camera');

  const viewer = await openViewer(`${relay.baseUrl}/village.mjpg`);
  await sleep(5000);
  t.ok(viewer.bytes > 20_000, `the MJPEG viewer got pictures (${viewer.bytes} bytes)`);
  viewer.close();
  await waitFor(() => transcoders() === 0, 5000, 'the transcoder to stop when the MJPEG viewer leaves');
  await sleep(4000); // longer than the camera's Timeout: the view's last picture is now stale

  const answers: Array<{ status: number; ms: number; age: number; body: Buffer }> = [];
  const until = Date.now() + 5000;
  while (Date.now() < until) {
    const started = Date.now();
    const { status, headers, body } = await fetchBytes(`${relay.baseUrl}/village.jpg`);
    answers.push({ status, ms: Date.now() - started, age: Number(headers.get('x-frame-age')), body });
    t.comment(`snapshot ${answers.length}: ${status} in ${Date.now() - started} ms, frame age ${headers.get('x-frame-age')} s`);
    await sleep(400);
  }
  t.same(answers.map((answer) => answer.status), answers.map(() => 200), 'every snapshot is answered with a picture');
  t.ok(answers[0]!.ms < 2000, `the first snapshot restarts the view and answers in ${answers[0]!.ms} ms`);
  t.ok(answers.slice(1).every((answer) => answer.ms < 500), `later ones come at once: ${answers.map((a) => a.ms).join(', ')} ms`);
  t.ok(answers.every((answer) => answer.age < 1.5), `every picture is fresh: ${answers.map((a) => a.age).join(', ')} s old`);
  t.ok(answers.every((answer) => answer.body[0] === 0xff && answer.body[1] === 0xd8), 'and a JPEG');
  t.ok(new Set(answers.map((answer) => answer.body.toString('base64'))).size >= answers.length - 1, 'the pictures move while polled');
  t.equal(transcoders(), 1, 'one transcoder kept running between polls');
  await waitFor(() => transcoders() === 0, SNAPSHOT_LINGER_MS + 5000, 'the transcoder to stop once polling ends and its linger has passed');
});
