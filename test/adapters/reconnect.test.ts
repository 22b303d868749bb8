import type { ServerResponse } from 'node:http';
import t, { type Test } from 'tap';
import { CutProxy } from '../helpers/cut-proxy.ts';
import { makeJpegFrames } from '../helpers/controllable-camera.ts';
import { waitFor } from '../helpers/probe.ts';
import { startTestRelay, type TestRelay } from '../helpers/relay.ts';
import { FakeCamera } from './http/fake-camera.ts';
import { GstRtspServer } from './rtsp/gst-server.ts';
import { makeCanonJpegs } from './vbc/canon-jpegs.ts';
import { VbcSimulator } from './vbc/simulator.ts';

interface CameraStat {
  state: string;
  reconnects: number;
  lastError: { phase: string } | null;
}

async function camera(relay: TestRelay): Promise<CameraStat> {
  const stat = (await (await fetch(`${relay.baseUrl}/stat.json`)).json()) as { cameras: CameraStat[] };
  return stat.cameras[0]!;
}

/** Cuts the camera's connection three times; after each, the camera must be live again, as a run that died. */
async function throughThreeReconnects(t: Test, source: string, proxy: CutProxy, extra = ''): Promise<void> {
  const relay = await startTestRelay(`<Camera cam>\n  Source ${source}\n  Timeout 3\n${extra}</Camera>\n<Stream cam.mjpg>\n  Feed cam\n</Stream>\n`);
  t.teardown(() => relay.stop());
  await waitFor(async () => (await camera(relay)).state === 'live', 15_000, 'live at first');
  for (let cut = 1; cut <= 3; cut++) {
    const framesBefore = relay.relay.feeds.get('cam')!.counters.framesIn;
    proxy.cut();
    await waitFor(async () => (await camera(relay)).reconnects >= cut, 10_000, `reconnect ${cut} to be noticed`);
    await waitFor(async () => (await camera(relay)).state === 'live', 15_000, `live again after cut ${cut}`);
    await waitFor(() => relay.relay.feeds.get('cam')!.counters.framesIn > framesBefore + 5, 10_000, `frames after cut ${cut}`);
    const stat = await camera(relay);
    t.equal(stat.state, 'live', `cut ${cut}: live again`);
    t.equal(stat.lastError?.phase, 'run', `cut ${cut}: it died while live; it did not "fail to start"`);
  }
  t.equal(proxy.connections, 4, 'one connection per run');
}

// Guards: per-run state on a reused adapter object kept an HTTP camera "starting" forever after its first reconnect.
t.test('HTTP MJPEG camera: live again after each of three reconnects', async (t) => {
  const jpegs = makeJpegFrames(10, '160x120');
  const timers = new Set<NodeJS.Timeout>();
  const cameraServer = await FakeCamera.start({
    '/video.mjpg': (_request, response: ServerResponse) => {
      response.writeHead(200, { 'Content-Type': 'multipart/x-mixed-replace; boundary=frame' });
      let n = 0;
      const timer = setInterval(() => {
        const jpeg = jpegs[n++ % jpegs.length]!;
        response.write(`--frame\r\nContent-Type: image/jpeg\r\nContent-Length: ${jpeg.length}\r\n\r\n`);
        response.write(jpeg);
        response.write('\r\n');
      }, 40);
      timers.add(timer);
      response.on('close', () => clearInterval(timer));
    },
  });
  const proxy = await CutProxy.start(cameraServer.port);
  t.teardown(async () => {
    for (const timer of timers) clearInterval(timer);
    await proxy.close();
    await cameraServer.close();
  });
  await throughThreeReconnects(t, `http://127.0.0.1:${proxy.port}/video.mjpg`, proxy);
});

t.test('RTSP camera (GStreamer, TCP): live again after each of three reconnects', async (t) => {
  const server = await GstRtspServer.start({ codec: 'jpeg', fps: 10 });
  const proxy = await CutProxy.start(server.port);
  t.teardown(async () => {
    await proxy.close();
    await server.stop();
  });
  await throughThreeReconnects(t, `rtsp://127.0.0.1:${proxy.port}/cam`, proxy, '  RTSPTransport tcp\n');
});

t.test('Canon VB-C10 camera: live again after each of three reconnects', async (t) => {
  const simulator = await VbcSimulator.start({ jpegs: await makeCanonJpegs(6, '192x144') });
  const proxy = await CutProxy.start(simulator.port);
  t.teardown(async () => {
    await proxy.close();
    await simulator.close();
  });
  await throughThreeReconnects(t, `vbc://127.0.0.1:${proxy.port}`, proxy, '  InputFrameRate 10\n');
});
