import t from 'tap';
import { ControllableCamera, makeJpegFrames, registryWith } from '../helpers/controllable-camera.ts';
import { waitFor } from '../helpers/probe.ts';
import { startTestRelay } from '../helpers/relay.ts';

// 200 cameras (or a network blip that drops them all) must not open 200 connections in the same instant.
t.test('200 cameras start through the bounded start queue, at most 8 connecting at once', async (t) => {
  const frames = makeJpegFrames(2, '160x120');
  const cameras: Record<string, ControllableCamera> = {};
  let config = '';
  for (let i = 0; i < 200; i++) {
    const camera = new ControllableCamera(frames, 10);
    camera.connectDelayMs = 50;
    cameras[`c${i}`] = camera;
    config += `<Camera c${i}>\n Source ctl://c${i}\n</Camera>\n`;
  }
  const all = Object.values(cameras);
  let peak = 0;
  const sampler = setInterval(() => (peak = Math.max(peak, all.reduce((sum, camera) => sum + camera.connecting, 0))), 5);
  const started = Date.now();
  const relay = await startTestRelay(config, { adapters: registryWith(cameras) });
  t.teardown(() => relay.stop());
  await waitFor(() => all.every((camera) => camera.activeConnections === 1 && camera.connecting === 0), 30_000, 'all 200 live');
  const elapsed = Date.now() - started;
  clearInterval(sampler);
  t.ok(peak > 1 && peak <= 8, `at most 8 cameras connecting at once (peak ${peak})`);
  t.ok(elapsed >= (200 / 8) * 50, `200 starts of 50 ms took ${elapsed} ms, as a queue of 8 must`);
  t.equal(all.reduce((sum, camera) => sum + camera.connections, 0), 200, 'one connection each');
});
