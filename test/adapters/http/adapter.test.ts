import { UNLIMITED_SLOTS } from '../../../lib/process-slots.ts';
import t from 'tap';
import { createAdapterRegistry } from '../../../adapters/index.ts';
import { makeCameraConfig } from '../../helpers/camera-config.ts';
import {
  FakeCamera, STANDARD_PART, fakeJpeg, part, scripted, snapshot, basicAuth, digestAuth, redirect,
  type DigestLog, type PartStyle, type ScriptedStream,
} from './fake-camera.ts';
import { failure, runAdapter } from './run-adapter.ts';

const FRAMES = [fakeJpeg(1), fakeJpeg(2, 300), fakeJpeg(3, 20), fakeJpeg(4), fakeJpeg(5, 1000)];

/** A stream of FRAMES in `style`, 20 ms apart, that then stays open without sending anything. */
function stream(contentType: string, style: PartStyle, extra: Partial<ScriptedStream> = {}): ScriptedStream {
  return { headers: { 'Content-Type': contentType }, pieces: FRAMES.map((frame) => part(frame, style)), intervalMs: 20, end: 'stall', ...extra };
}

const STREAM_STYLES: ReadonlyArray<{ name: string; script: ScriptedStream }> = [
  { name: 'quoted boundary with Content-Length, chunked', script: stream('multipart/x-mixed-replace; boundary="myboundary"', STANDARD_PART) },
  { name: 'unquoted boundary without Content-Length', script: stream('multipart/x-mixed-replace;boundary=myboundary', { ...STANDARD_PART, contentLength: false }) },
  { name: 'boundary announced with a leading --', script: stream('multipart/x-mixed-replace; boundary=--myboundary', STANDARD_PART) },
  { name: 'extra blank lines and upper-case headers', script: stream('multipart/x-mixed-replace; boundary=myboundary', { ...STANDARD_PART, headerCase: 'upper', afterPart: '\r\n\r\n\r\n' }) },
  { name: 'lower-case headers, close-delimited body (no chunking)', script: stream('multipart/x-mixed-replace; boundary=myboundary', { ...STANDARD_PART, headerCase: 'lower' }, { closeDelimited: true }) },
];

t.test('the registry serves http:// and https:// with this adapter', async (t) => {
  const registry = createAdapterRegistry();
  t.equal(registry.create(makeCameraConfig('http://127.0.0.1:1/x'), { ffmpegPath: 'ffmpeg', processSlots: UNLIMITED_SLOTS }).kind, 'http');
  t.equal(registry.create(makeCameraConfig('https://127.0.0.1:1/x'), { ffmpegPath: 'ffmpeg', processSlots: UNLIMITED_SLOTS }).kind, 'http');
});

for (const { name, script } of STREAM_STYLES) {
  t.test(`multipart stream, ${name}: every frame arrives whole over one connection`, async (t) => {
    const camera = await FakeCamera.start({ '/video.mjpg': scripted(script) });
    t.teardown(() => camera.close());
    const running = runAdapter(camera.url('/video.mjpg'));
    await running.sink.waitForFrames(FRAMES.length, 5000);
    t.same(running.sink.frames.map((frame) => frame.data), FRAMES);
    t.ok(running.sink.frames.every((frame) => frame.track.codec === 'jpeg' && frame.keyframe), 'jpeg keyframes');
    t.ok(running.sink.connectedAt !== undefined, 'onConnected was called');
    t.equal(camera.connections, 1, 'one upstream connection');
    running.sink.stop();
    t.equal(await running.outcome, 'resolved');
    await camera.waitForNoSockets();
  });
}

t.test('Canon WebView GetOneShot with frame_count=no_limit works as a source URL', async (t) => {
  const canon = { ...STANDARD_PART, delimiter: '--LivescopeImage' };
  const camera = await FakeCamera.start({
    '/-wvhttp-01-/GetOneShot': scripted({
      headers: { 'Content-Type': 'multipart/x-mixed-replace;boundary=--LivescopeImage', 'Livescope-Status': '0' },
      pieces: FRAMES.map((frame) => part(frame, canon)), intervalMs: 20, end: 'stall', closeDelimited: true,
    }),
  });
  t.teardown(() => camera.close());
  const running = runAdapter(camera.url('/-wvhttp-01-/GetOneShot?image_size=320x240&frame_rate=10000&frame_count=no_limit'));
  await running.sink.waitForFrames(FRAMES.length, 5000);
  t.same(running.sink.frames.map((frame) => frame.data), FRAMES);
  t.equal(camera.requests[0]?.query, 'image_size=320x240&frame_rate=10000&frame_count=no_limit', 'the query reaches the camera');
  t.equal(camera.connections, 1);
  running.sink.stop();
  t.equal(await running.outcome, 'resolved');
});

t.test('snapshot mode polls single JPEGs at the interval over one keep-alive connection', async (t) => {
  const camera = await FakeCamera.start({ '/snap.jpg': snapshot((n) => fakeJpeg(n)) });
  t.teardown(() => camera.close());
  const running = runAdapter(camera.url('/snap.jpg'), { snapshotIntervalMs: 60 });
  await running.sink.waitForFrames(6, 5000);
  running.sink.stop();
  t.equal(await running.outcome, 'resolved');
  const frames = running.sink.frames;
  t.same(frames.slice(0, 6).map((frame) => frame.data), [0, 1, 2, 3, 4, 5].map((n) => fakeJpeg(n)), 'each poll is a fresh image');
  const gaps = frames.slice(1, 6).map((frame, i) => frame.pts - frames[i]!.pts);
  t.ok(gaps.every((gap) => gap >= 40 && gap < 250), `polls about 60 ms apart (${gaps.map((g) => g.toFixed(0)).join(', ')})`);
  t.equal(camera.connections, 1, 'one upstream connection for all polls');
  await camera.waitForNoSockets();
});

t.test('a single image/jpeg answer without a snapshot interval is polled at the input frame rate', async (t) => {
  const camera = await FakeCamera.start({ '/snap.jpg': snapshot((n) => fakeJpeg(n)) });
  t.teardown(() => camera.close());
  const running = runAdapter(camera.url('/snap.jpg'), { inputFrameRate: 20 });
  await running.sink.waitForFrames(4, 5000);
  running.sink.stop();
  await running.outcome;
  t.equal(camera.connections, 1);
  t.ok(camera.requests.length >= 4 && camera.requests.length <= 6, `one request per frame (${camera.requests.length})`);
  t.ok(running.sink.logs.some((line) => /polling every 50 ms/.test(line)), 'says it polls, and how often');
});

t.test('Basic auth: answers the challenge, then sends credentials on every poll', async (t) => {
  const camera = await FakeCamera.start({ '/snap.jpg': basicAuth('admin', 's3cret', snapshot((n) => fakeJpeg(n))) });
  t.teardown(() => camera.close());
  const running = runAdapter(camera.url('/snap.jpg', 'admin:s3cret'), { snapshotIntervalMs: 20 });
  await running.sink.waitForFrames(3, 5000);
  running.sink.stop();
  await running.outcome;
  t.equal(camera.requests[0]?.authorization, undefined, 'no credentials before the camera asks');
  t.ok(camera.requests.slice(1).every((request) => request.authorization?.startsWith('Basic ')), 'Basic after the challenge');
  t.equal(camera.connections, 1);
});

t.test('Digest auth on a stream: one 401, then frames, over one connection', async (t) => {
  const log: DigestLog = { acceptedNonceCounts: [] };
  const camera = await FakeCamera.start({
    '/video.mjpg': digestAuth('admin', 'pa"ss', scripted(stream('multipart/x-mixed-replace; boundary=myboundary', STANDARD_PART)), log),
  });
  t.teardown(() => camera.close());
  const running = runAdapter(camera.url('/video.mjpg', 'admin:pa%22ss'));
  await running.sink.waitForFrames(FRAMES.length, 5000);
  t.same(running.sink.frames.map((frame) => frame.data), FRAMES);
  t.equal(camera.requests.length, 2, 'the challenge and the answer');
  t.same(log.acceptedNonceCounts, ['00000001']);
  t.equal(camera.connections, 1, 'the retry reuses the connection');
  running.sink.stop();
  await running.outcome;
});

t.test('Digest auth while polling: the nonce count goes up and the camera challenges only once', async (t) => {
  const log: DigestLog = { acceptedNonceCounts: [] };
  const camera = await FakeCamera.start({ '/snap.jpg': digestAuth('admin', 'secret', snapshot((n) => fakeJpeg(n)), log) });
  t.teardown(() => camera.close());
  const running = runAdapter(camera.url('/snap.jpg', 'admin:secret'), { snapshotIntervalMs: 20 });
  await running.sink.waitForFrames(4, 5000);
  running.sink.stop();
  await running.outcome;
  t.same(log.acceptedNonceCounts.slice(0, 4), ['00000001', '00000002', '00000003', '00000004']);
  t.equal(camera.requests.filter((request) => request.authorization === undefined).length, 1, 'one unauthenticated request');
  t.equal(camera.connections, 1);
});

// Guards against retrying forever (or locking the account) with a wrong password.
t.test('a wrong Digest password is AUTH after exactly one retry, and the password is in no message', async (t) => {
  const camera = await FakeCamera.start({ '/video.mjpg': digestAuth('admin', 'right', scripted(stream('multipart/x-mixed-replace; boundary=b', STANDARD_PART))) });
  t.teardown(() => camera.close());
  const running = runAdapter(camera.url('/video.mjpg', 'admin:wrongpassword'));
  const error = await failure(running);
  t.equal(error.code, 'AUTH');
  t.match(error.message, /HTTP 401/);
  t.equal(camera.requests.length, 2);
  t.notMatch(`${error.message} ${running.sink.logs.join(' ')}`, /wrongpassword/);
});

t.test('a 401 with no credentials configured is AUTH', async (t) => {
  const camera = await FakeCamera.start({ '/snap.jpg': basicAuth('a', 'b', snapshot((n) => fakeJpeg(n))) });
  t.teardown(() => camera.close());
  const error = await failure(runAdapter(camera.url('/snap.jpg')));
  t.equal(error.code, 'AUTH');
  t.match(error.message, /no credentials configured/);
});

t.test('redirects are followed, with credentials kept for the same origin', async (t) => {
  const camera = await FakeCamera.start({
    '/old': redirect(301, '/older'),
    '/older': redirect(307, '/video.mjpg'),
    '/video.mjpg': basicAuth('u', 'p', scripted(stream('multipart/x-mixed-replace; boundary=myboundary', STANDARD_PART))),
  });
  t.teardown(() => camera.close());
  const running = runAdapter(camera.url('/old', 'u:p'));
  await running.sink.waitForFrames(FRAMES.length, 5000);
  t.same(camera.requests.map((request) => request.path), ['/old', '/older', '/video.mjpg', '/video.mjpg']);
  t.equal(camera.connections, 1);
  running.sink.stop();
  await running.outcome;
});

// Guards against leaking a camera's credentials to whatever host a redirect names.
t.test('a redirect to another origin does not carry the credentials', async (t) => {
  const other = await FakeCamera.start({ '/video.mjpg': basicAuth('u', 'p', snapshot((n) => fakeJpeg(n))) });
  const camera = await FakeCamera.start({ '/video.mjpg': redirect(302, other.url('/video.mjpg')) });
  t.teardown(async () => {
    await camera.close();
    await other.close();
  });
  const error = await failure(runAdapter(camera.url('/video.mjpg', 'u:p')));
  t.equal(error.code, 'AUTH');
  t.same(other.requests.map((request) => request.authorization), [undefined], 'the other origin never saw credentials');
});

t.test('more than five redirects is an upstream error', async (t) => {
  const camera = await FakeCamera.start({ '/loop': redirect(302, '/loop') });
  t.teardown(() => camera.close());
  const error = await failure(runAdapter(camera.url('/loop')));
  t.equal(error.code, 'UPSTREAM_STATUS');
  t.match(error.message, /more than 5 redirects/);
  t.equal(camera.requests.length, 6);
});
