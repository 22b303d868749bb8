import t from 'tap';
import { readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { FakeCamera } from '../adapters/http/fake-camera.ts';
import { ControllableCamera, makeJpegFrames, registryWith } from '../helpers/controllable-camera.ts';
import { FakeRtspServer } from '../adapters/rtsp/fake-server.ts';
import { fetchBytes, openViewer, waitFor } from '../helpers/probe.ts';
import { startTestRelay, syntheticConfig } from '../helpers/relay.ts';
import { configFile, runRelay } from '../helpers/relay-process.ts';

async function cameraStat(baseUrl: string): Promise<{ state: string; framesIn: number; framesInvalid: number }> {
  const stat = (await (await fetch(`${baseUrl}/stat.json`)).json()) as { cameras: Array<{ state: string; framesIn: number; framesInvalid: number }> };
  return stat.cameras[0]!;
}

/** An HTTP camera whose multipart parts are 4-byte "JPEGs", written as fast as the relay reads them. */
async function tinyFrameCamera(): Promise<FakeCamera> {
  const part = Buffer.from('--f\r\nContent-Type: image/jpeg\r\nContent-Length: 4\r\n\r\n\xff\xd8\xff\xd9\r\n', 'latin1');
  const burst = Buffer.concat(Array.from({ length: 5000 }, () => part));
  return FakeCamera.start({
    '/video.mjpg': (_request, response) => {
      response.writeHead(200, { 'Content-Type': 'multipart/x-mixed-replace; boundary=f' });
      const pump = (): void => {
        while (!response.destroyed && response.write(burst));
        if (!response.destroyed) response.once('drain', pump);
      };
      pump();
    },
  });
}

function rssMiB(pid: number): number {
  return Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'latin1'))![1]) / 1024;
}

// Guards: 4-byte "JPEGs" at ~190,000 frames/s drove RSS to 0.5-1 GB with an FLV stream configured.
t.test('a camera sending tiny frames as fast as the relay reads keeps the relay under 200 MB, and its frames go nowhere', { buffered: false }, async (t) => {
  const camera = await tinyFrameCamera();
  const relay = await runRelay(await configFile(`<Camera tiny>\n  Source ${camera.url('/video.mjpg')}\n  Timeout 60\n</Camera>
<Stream tiny.flv>\n  Feed tiny\n  VideoBitRate 100\n</Stream>\n<Stream tiny.mjpg>\n  Feed tiny\n</Stream>\n<Stream tiny.jpg>\n  Feed tiny\n</Stream>\n`));
  t.teardown(async () => {
    relay.child.kill('SIGKILL');
    await camera.close();
  });
  const base = `http://127.0.0.1:${relay.port()}`;
  const flv = await openViewer(`${base}/tiny.flv`);
  const mjpeg = await openViewer(`${base}/tiny.mjpg`);
  t.teardown(() => { flv.close(); mjpeg.close(); });
  let peak = 0;
  const until = Date.now() + 8000;
  while (Date.now() < until) {
    peak = Math.max(peak, rssMiB(relay.child.pid!));
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  const stat = await cameraStat(base);
  t.ok(stat.framesInvalid > 200_000, `${stat.framesInvalid} invalid frames dropped on arrival`);
  t.equal(stat.framesIn, 0, 'none taken as images');
  t.ok(peak < 200, `relay RSS peaked at ${peak.toFixed(0)} MB`);
  t.equal(mjpeg.bytes, 0, 'no viewer got a tiny "image"');
  t.equal((await fetchBytes(`${base}/tiny.jpg`)).status, 503, 'no snapshot either');
});

// The tests below have a relay each and mostly wait: they run side by side, after the one above, which keeps both cores
// busy and measures the relay's memory on its own.
t.jobs = 3;

// Guards: an RTSP camera that answered PLAY and then sent no RTP showed `live`.
t.test('an RTSP camera that answers PLAY but sends nothing is not live, and fails to start at Timeout', async (t) => {
  const server = new FakeRtspServer();
  server.rate = 0;
  await server.listen();
  const relay = await startTestRelay(`<Camera mute>\n  Source ${server.url}\n  Timeout 2\n</Camera>\n<Stream mute.mjpg>\n  Feed mute\n</Stream>\n`);
  t.teardown(async () => {
    await relay.stop();
    await server.close();
  });
  await waitFor(() => server.methods().includes('PLAY'), 5000, 'PLAY');
  const states = new Set<string>();
  const until = Date.now() + 3500;
  while (Date.now() < until) {
    states.add((await cameraStat(relay.baseUrl)).state);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  t.notOk(states.has('live'), `never live (seen: ${[...states].join(', ')})`);
  const feed = relay.relay.feeds.get('mute')!;
  t.equal(feed.status.lastError?.phase, 'start', 'no RTP within Timeout: it failed to start');
});

// Guards: /NAME.jpg kept serving a 47 s old frame with 200 and no sign of its age.
t.test('a snapshot says how old it is, and a frame older than the camera\'s Timeout is a 503', async (t) => {
  const camera = new ControllableCamera(makeJpegFrames(3, '160x120'), 10);
  const relay = await startTestRelay(`<Camera cam>\n  Source ctl://cam\n  Timeout 2\n</Camera>\n<Stream cam.jpg>\n  Feed cam\n</Stream>\n`,
    { adapters: registryWith({ cam: camera }) });
  t.teardown(() => relay.stop());
  await waitFor(async () => (await fetchBytes(`${relay.baseUrl}/cam.jpg`)).status === 200, 5000, 'a snapshot');
  const fresh = await fetchBytes(`${relay.baseUrl}/cam.jpg`);
  t.ok(Number(fresh.headers.get('x-frame-age')) < 1, `fresh frame, X-Frame-Age ${fresh.headers.get('x-frame-age')}`);
  t.ok(Math.abs(Date.parse(fresh.headers.get('last-modified')!) - Date.now()) < 2000, 'Last-Modified is the frame\'s time');
  camera.setMode('stall');
  await new Promise((resolve) => setTimeout(resolve, 1200));
  const aging = await fetchBytes(`${relay.baseUrl}/cam.jpg`);
  t.equal(aging.status, 200, 'within Timeout the last frame is still served');
  t.ok(Number(aging.headers.get('x-frame-age')) >= 1, `with its age: ${aging.headers.get('x-frame-age')} s`);
  await new Promise((resolve) => setTimeout(resolve, 1500));
  const stale = await fetchBytes(`${relay.baseUrl}/cam.jpg`);
  t.equal(stale.status, 503, 'past Timeout: no stale image passed off as live');
  t.match(stale.body.toString(), /no frame for \d+ s/);
});

/** Sends two requests in one write on one connection; resolves with what came back once the relay closed it. */
function pipelined(port: number, first: string, second: string, timeoutMs: number): Promise<{ text: string; closed: boolean }> {
  return new Promise((resolve) => {
    let text = '';
    const socket = connect(port, '127.0.0.1', () => socket.write(`GET ${first} HTTP/1.1\r\nHost: r\r\n\r\nGET ${second} HTTP/1.1\r\nHost: r\r\n\r\n`));
    const timer = setTimeout(() => {
      socket.destroy();
      resolve({ text, closed: false });
    }, timeoutMs);
    socket.on('data', (chunk: Buffer) => (text += chunk.toString('latin1')));
    socket.on('error', () => {});
    socket.on('close', () => {
      clearTimeout(timer);
      resolve({ text, closed: true });
    });
  });
}

// Guards: GET /test.jpg then GET /test.mjpg on one connection sent headers and then nothing, forever and uncounted.
t.test('a live request pipelined behind another is refused cleanly, and its connection closes', async (t) => {
  const relay = await startTestRelay(syntheticConfig());
  t.teardown(() => relay.stop());
  await waitFor(async () => (await fetchBytes(`${relay.baseUrl}/test.jpg`)).status === 200, 10_000, 'the camera');
  const results = await Promise.all(Array.from({ length: 200 }, () => pipelined(relay.port, '/test.jpg', '/test.mjpg', 5000)));
  t.ok(results.every((result) => result.closed), 'every connection was closed by the relay within 5 s');
  t.ok(results.every((result) => /^HTTP\/1\.1 200 OK[\s\S]*HTTP\/1\.1 400 Bad Request/.test(result.text)), 'the snapshot, then a 400');
  t.match(results[0]!.text, /cannot be pipelined/);
  const stat = (await (await fetch(`${relay.baseUrl}/stat.json`)).json()) as { server: { viewers: number } };
  t.equal(stat.server.viewers, 0, 'no viewer left behind');
});

