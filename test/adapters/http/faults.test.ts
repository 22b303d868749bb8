import t, { type Test } from 'tap';
import { createServer } from 'node:net';
import {
  FakeCamera, STANDARD_PART, fakeJpeg, part, scripted, snapshot, status, livescopeFailure, type Route,
} from './fake-camera.ts';
import { failure, runAdapter } from './run-adapter.ts';

const MULTIPART = { 'Content-Type': 'multipart/x-mixed-replace; boundary=myboundary' };
const A = fakeJpeg(1);
const B = fakeJpeg(2, 50);

async function camera(t: Test, route: Route, path = '/video'): Promise<FakeCamera> {
  const fake = await FakeCamera.start({ [path]: route });
  t.teardown(() => fake.close());
  return fake;
}

// Guards Canon's habit of reporting errors with HTTP 200: the Livescope-Status header must win.
t.test('Livescope-Status 503 with HTTP 200 is an upstream error naming the Livescope code', async (t) => {
  const fake = await camera(t, livescopeFailure(503, 'too many clients'), '/-wvhttp-01-/GetOneShot');
  const error = await failure(runAdapter(fake.url('/-wvhttp-01-/GetOneShot?frame_count=no_limit')));
  t.equal(error.code, 'UPSTREAM_STATUS');
  t.equal(error.message, 'Livescope 503 too many clients');
});

// Guards against retrying a Canon camera that refused the credentials as if it were a transient fault.
t.test('Livescope-Status 401 is an AUTH error', async (t) => {
  const fake = await camera(t, livescopeFailure(401, 'unauthorized'));
  t.equal((await failure(runAdapter(fake.url('/video')))).code, 'AUTH');
});

for (const [code, message] of [[503, 'Service Unavailable'], [404, 'Not Found'], [500, 'Internal Server Error']] as const) {
  // Guards that an error page is reported with its status, never parsed as video.
  t.test(`HTTP ${code} is an upstream status error`, async (t) => {
    const fake = await camera(t, status(code, message));
    const error = await failure(runAdapter(fake.url('/video')));
    t.equal(error.code, 'UPSTREAM_STATUS');
    t.equal(error.message, `HTTP ${code} ${message}`);
  });
}

// Guards that refused access shows as an auth problem on /stat.html.
t.test('HTTP 403 is an AUTH error', async (t) => {
  const fake = await camera(t, status(403, 'Forbidden'));
  t.equal((await failure(runAdapter(fake.url('/video')))).code, 'AUTH');
});

// Guards against a frozen camera hanging the feed forever: silence past readTimeoutMs fails the run.
t.test('a camera that stalls mid-stream is a TIMEOUT after readTimeoutMs', async (t) => {
  const fake = await camera(t, scripted({ headers: MULTIPART, pieces: [part(A), part(B)], end: 'stall' }));
  const running = runAdapter(fake.url('/video'), { readTimeoutMs: 300 });
  await running.sink.waitForFrames(2, 3000);
  const since = performance.now();
  const error = await failure(running);
  t.equal(error.code, 'TIMEOUT');
  t.ok(performance.now() - since >= 250, 'not before the timeout');
  await fake.waitForNoSockets();
});

// Guards against waiting forever for response headers from a camera that accepted the connection.
t.test('a camera that accepts and never answers is a TIMEOUT after connectTimeoutMs', async (t) => {
  const fake = await camera(t, () => undefined);
  const started = performance.now();
  const error = await failure(runAdapter(fake.url('/video'), { connectTimeoutMs: 300 }));
  t.equal(error.code, 'TIMEOUT');
  t.ok(performance.now() - started >= 250);
  await fake.waitForNoSockets();
});

// Guards that a half-received JPEG is never yielded when the connection breaks.
t.test('a connection closed in the middle of a part is CLOSED, saying so', async (t) => {
  const fake = await camera(t, scripted({ headers: MULTIPART, pieces: [part(A), part(B).subarray(0, 60)], end: 'destroy' }));
  const running = runAdapter(fake.url('/video'));
  const error = await failure(running);
  t.equal(error.code, 'CLOSED');
  t.match(error.message, /middle of a part/);
  t.same(running.sink.frames.map((frame) => frame.data), [A]);
});

// Guards that a stream's end is a failure the supervisor retries, not a silent resolve.
t.test('a stream that ends between parts is CLOSED', async (t) => {
  const fake = await camera(t, scripted({ headers: MULTIPART, pieces: [part(A)], end: 'end' }));
  const error = await failure(runAdapter(fake.url('/video')));
  t.equal(error.code, 'CLOSED');
  t.notMatch(error.message, /middle/);
});

// Guards against buffering an endless body that never contains a boundary.
t.test('garbage instead of multipart is a PROTOCOL error', async (t) => {
  const fake = await camera(t, scripted({ headers: MULTIPART, pieces: [Buffer.alloc(100_000, 'no boundary here\r\n')], end: 'stall' }));
  const error = await failure(runAdapter(fake.url('/video')));
  t.equal(error.code, 'PROTOCOL');
  t.match(error.message, /no multipart boundary/);
});

// Guards the boundary-learning path against a body with no `--` line at all.
t.test('a Content-Type without a boundary and a body without one is a PROTOCOL error', async (t) => {
  const body = Buffer.concat(Array.from({ length: 2000 }, () => Buffer.concat([Buffer.from('Content-Length: 10\r\n\r\n'), A])));
  const fake = await camera(t, scripted({ headers: { 'Content-Type': 'multipart/x-mixed-replace' }, pieces: [body], end: 'stall' }));
  const error = await failure(runAdapter(fake.url('/video')));
  t.equal(error.code, 'PROTOCOL');
  t.match(error.message, /no multipart boundary/);
});

// Guards against gluing a truncated JPEG to the next part's bytes.
t.test('a JPEG without an end marker is dropped and the stream goes on', async (t) => {
  const noLength = { ...STANDARD_PART, contentLength: false };
  const fake = await camera(t, scripted({ headers: MULTIPART, pieces: [part(A.subarray(0, A.length - 2), noLength), part(B, noLength)], end: 'stall' }));
  const running = runAdapter(fake.url('/video'));
  await running.sink.waitForFrames(1, 3000);
  t.same(running.sink.frames.map((frame) => frame.data), [B]);
  t.equal(running.adapter.droppedParts, 1);
  running.sink.stop();
  t.equal(await running.outcome, 'resolved');
});

// Guards memory against a hostile Content-Length or an endless part.
t.test('a part larger than maxFrameBytes is a PROTOCOL error, not unbounded buffering', async (t) => {
  const fake = await camera(t, scripted({ headers: MULTIPART, pieces: [part(A), part(fakeJpeg(3, 20_000))], end: 'stall' }));
  const error = await failure(runAdapter(fake.url('/video'), { maxFrameBytes: 10_000 }));
  t.equal(error.code, 'PROTOCOL');
  t.match(error.message, /larger than the 10000 byte limit/);
});

// Guards memory against endless part headers.
t.test('a part header block larger than 8 KiB is a PROTOCOL error', async (t) => {
  const headers = Buffer.from(`--myboundary\r\n${'X-Pad: 0123456789012345678901234567890123456789\r\n'.repeat(400)}\r\n`);
  const fake = await camera(t, scripted({ headers: MULTIPART, pieces: [headers, A], end: 'stall' }));
  const error = await failure(runAdapter(fake.url('/video')));
  t.equal(error.code, 'PROTOCOL');
  t.match(error.message, /headers larger than 8192 bytes/);
});

// Guards against a login page being read as a stream until the watchdog fires.
t.test('an HTML page instead of a stream is a PROTOCOL error', async (t) => {
  const fake = await camera(t, scripted({ headers: { 'Content-Type': 'text/html' }, pieces: [Buffer.from('<html>login</html>')], end: 'end' }));
  const error = await failure(runAdapter(fake.url('/video')));
  t.equal(error.code, 'PROTOCOL');
  t.match(error.message, /text\/html/);
});

// Guards memory against an oversized snapshot body.
t.test('a snapshot larger than maxFrameBytes is a PROTOCOL error', async (t) => {
  const fake = await camera(t, snapshot(() => fakeJpeg(1, 5000)));
  const error = await failure(runAdapter(fake.url('/video'), { snapshotIntervalMs: 50, maxFrameBytes: 1000 }));
  t.equal(error.code, 'PROTOCOL');
});

// Guards that one bad snapshot is tolerated but a camera serving only junk is reported.
t.test('snapshots that are not JPEGs are dropped, and three in a row are a PROTOCOL error', async (t) => {
  const fake = await camera(t, snapshot((n) => (n === 0 ? fakeJpeg(0) : Buffer.from('not a picture'))));
  const running = runAdapter(fake.url('/video'), { snapshotIntervalMs: 20 });
  const error = await failure(running);
  t.equal(error.code, 'PROTOCOL');
  t.equal(running.sink.frames.length, 1);
  t.equal(running.adapter.droppedParts, 3);
});

// Guards the error code the Feed shows for an unreachable camera.
t.test('a refused connection is a CONNECT error', async (t) => {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  t.equal((await failure(runAdapter(`http://127.0.0.1:${port}/video`))).code, 'CONNECT');
});

// Guards the Feed's stop: aborting must resolve run() at once and close the upstream socket.
t.test('aborting while streaming resolves run() promptly and closes the socket', async (t) => {
  const fake = await camera(t, scripted({ headers: MULTIPART, pieces: (i) => part(fakeJpeg(i)), intervalMs: 20, end: 'stall' }));
  const running = runAdapter(fake.url('/video'));
  await running.sink.waitForFrames(3, 3000);
  t.equal(fake.openSockets, 1);
  const stoppedAt = performance.now();
  running.sink.stop();
  t.equal(await running.outcome, 'resolved');
  t.ok(performance.now() - stoppedAt < 100, 'resolved within 100 ms');
  await fake.waitForNoSockets(1000);
});

// Guards the Feed's stop while the camera has not answered yet.
t.test('aborting while waiting for response headers resolves run() promptly and closes the socket', async (t) => {
  const fake = await camera(t, () => undefined);
  const running = runAdapter(fake.url('/video'), { connectTimeoutMs: 10_000 });
  while (fake.requests.length === 0) await new Promise((resolve) => setTimeout(resolve, 10));
  const stoppedAt = performance.now();
  running.sink.stop();
  t.equal(await running.outcome, 'resolved');
  t.ok(performance.now() - stoppedAt < 100, 'resolved within 100 ms');
  await fake.waitForNoSockets(1000);
});

// Guards the Feed's stop while the adapter sleeps between polls.
t.test('aborting between snapshot polls resolves run() promptly and closes the socket', async (t) => {
  const fake = await camera(t, snapshot((n) => fakeJpeg(n)));
  const running = runAdapter(fake.url('/video'), { snapshotIntervalMs: 5000 });
  await running.sink.waitForFrames(1, 3000);
  const stoppedAt = performance.now();
  running.sink.stop();
  t.equal(await running.outcome, 'resolved');
  t.ok(performance.now() - stoppedAt < 100, 'resolved within 100 ms');
  await fake.waitForNoSockets(1000);
});
