import { execFile } from 'node:child_process';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { promisify } from 'node:util';
import t, { type Test } from 'tap';
import { failure, runAdapter } from '../http/run-adapter.ts';

// The HTTP adapter choosing FLV by the URL's .flv ending or by the answer's Content-Type.

const run = promisify(execFile);
const { stdout: FLV } = await run('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-f', 'lavfi', '-i', 'testsrc=size=160x120:rate=10', '-t', '3',
  '-c:v', 'libx264', '-preset', 'ultrafast', '-g', '10', '-pix_fmt', 'yuv420p', '-f', 'flv', 'pipe:1'], { encoding: 'buffer', timeout: 60_000 });

/** A server answering every request with `contentType` and FLV bytes written a few tags at a time, then held open. */
async function origin(t: Test, contentType: string, body: (response: ServerResponse) => void): Promise<string> {
  const server: Server = createServer((request, response) => {
    response.writeHead(200, { 'Content-Type': contentType });
    body(response);
    request.on('close', () => response.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise((resolve) => { server.closeAllConnections(); server.close(resolve); }));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** Writes the FLV in small pieces, as a live origin would. */
const trickle = (response: ServerResponse): void => {
  let offset = 0;
  const timer = setInterval(() => {
    if (offset >= FLV.length || response.destroyed) return clearInterval(timer);
    response.write(FLV.subarray(offset, (offset += 1500)));
  }, 2);
};

t.test('a URL without .flv answering video/x-flv is read as FLV, with H.264 frames and FLV timestamps', async (t) => {
  const base = await origin(t, 'video/x-flv', trickle);
  const running = runAdapter(`${base}/live?app=cam`);
  t.equal(running.adapter.kind, 'http', 'the kind follows the URL');
  await running.sink.waitForFrames(20);
  running.sink.stop();
  t.equal(await running.outcome, 'resolved', 'run() resolves when stopped');
  const frames = running.sink.frames;
  t.ok(frames.every((frame) => frame.track.codec === 'h264'));
  t.ok(frames[0]!.keyframe, 'the first frame is a keyframe');
  t.same(frames.slice(0, 4).map((frame) => frame.pts), [0, 100, 200, 300]);
  t.ok(running.sink.connectedAt !== undefined, 'connected was announced');
});

t.test('a .flv URL answered as application/octet-stream is read as FLV too', async (t) => {
  const base = await origin(t, 'application/octet-stream', trickle);
  const running = runAdapter(`${base}/cam.flv`);
  t.equal(running.adapter.kind, 'http-flv');
  await running.sink.waitForFrames(5);
  running.sink.stop();
  t.equal(running.sink.frames[0]!.track.codec, 'h264');
});

t.test('a .flv URL answered with an HTML error page is a PROTOCOL error, not parsed as video', async (t) => {
  const base = await origin(t, 'text/html', (response) => response.end('<h1>stream not found</h1>'));
  const error = await failure(runAdapter(`${base}/cam.flv`));
  t.equal(error.code, 'PROTOCOL');
  t.equal(error.message, 'the camera answered text/html, not an FLV stream');
});

t.test('an origin that ends its FLV cleanly is CLOSED, saying so', async (t) => {
  const base = await origin(t, 'video/x-flv', (response) => response.end(FLV));
  const running = runAdapter(`${base}/cam.flv`);
  const error = await failure(running);
  t.equal(error.code, 'CLOSED');
  t.equal(error.message, 'the origin closed the FLV stream');
  t.equal(running.sink.frames.length, 30, 'every frame before the end was delivered');
});

t.test('an origin silent in the middle of the stream times out', async (t) => {
  const base = await origin(t, 'video/x-flv', (response) => response.write(FLV.subarray(0, 5000)));
  const error = await failure(runAdapter(`${base}/cam.flv`, { readTimeoutMs: 500 }));
  t.equal(error.code, 'TIMEOUT');
});
