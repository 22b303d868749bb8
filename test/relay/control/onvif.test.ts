import t, { type Test } from 'tap';
import { NO_CONTROL, type CameraControlConfig } from '../../../conf/control.ts';
import { createLogger } from '../../../lib/log.ts';
import { MOVE_SECONDS, OnvifBackend } from '../../../relay/control/onvif.ts';
import { OnvifDeviceSimulator } from '../../helpers/onvif-device.ts';

const quiet = createLogger('control', () => {});

async function setup(t: Test, options: { password?: string; config?: Partial<CameraControlConfig> } = {}): Promise<{ device: OnvifDeviceSimulator; backend: OnvifBackend }> {
  const device = await new OnvifDeviceSimulator({ username: 'admin', password: 'pw' }).start();
  const config: CameraControlConfig = {
    ...NO_CONTROL,
    kind: 'onvif',
    address: `http://127.0.0.1:${device.port}`,
    timeoutMs: 2000,
    panRange: [-170, 170],
    tiltRange: [-30, 90],
    zoomRange: [2, 60],
    presets: [{ name: 'home', pan: 0, tilt: 30, zoom: 60 }],
    ...options.config,
  };
  const backend = new OnvifBackend(config, { username: 'admin', password: options.password ?? 'pw' }, quiet);
  t.teardown(async () => {
    await backend.close();
    await device.stop();
  });
  return { device, backend };
}

t.test('positions in degrees map onto ONVIF\'s generic spaces both ways', async (t) => {
  const { device, backend } = await setup(t);
  const sent = await backend.goto({ pan: 85, tilt: 30, zoom: 31 });
  t.same(sent, { pan: 85, tilt: 30, zoom: 31 });
  t.same(device.position, { x: 0.5, y: 0, zoom: 0.5 }, 'pan 85 of -170..170 is 0.5; tilt 30 of -30..90 is 0; zoom 31 of 60..2 is 0.5');
  device.position = { x: -1, y: 1, zoom: 1 };
  const fresh = new OnvifBackend({ ...NO_CONTROL, kind: 'onvif', address: `http://127.0.0.1:${device.port}`, panRange: [-170, 170], tiltRange: [-30, 90], zoomRange: [2, 60] }, { username: 'admin', password: 'pw' }, quiet);
  t.same(await fresh.position(), { pan: -170, tilt: 90, zoom: 2 });
  await fresh.close();
  t.same(await backend.goto({ pan: 500, tilt: -500, zoom: 0.5 }), { pan: 170, tilt: -30, zoom: 2 }, 'targets outside the ranges are clamped');
});

t.test('a move drives the camera for a moment and it stops by itself; stop stops it at once', async (t) => {
  const { device, backend } = await setup(t);
  await backend.move({ pan: 1, tilt: 0, zoom: 0 });
  const move = device.calls.find((call) => call.operation === 'ContinuousMove');
  t.match(move?.body, { Timeout: `PT${MOVE_SECONDS}S` }, 'every move carries a timeout');
  await new Promise((resolve) => setTimeout(resolve, MOVE_SECONDS * 1000 + 200));
  const after = device.current();
  t.ok(after.x > 0.3 && after.x <= MOVE_SECONDS + 0.01, `moved right for about ${MOVE_SECONDS} s (x ${after.x})`);
  await new Promise((resolve) => setTimeout(resolve, 300));
  t.equal(device.current().x, after.x, 'and stopped');
  await backend.move({ pan: 0, tilt: -1, zoom: 0 });
  await backend.stop();
  const stopped = device.current().y;
  await new Promise((resolve) => setTimeout(resolve, 200));
  t.equal(device.current().y, stopped, 'stop ends a move under way');
});

t.test('presets: the configured ones and the camera\'s own', async (t) => {
  const { device, backend } = await setup(t);
  await backend.position();
  t.same(backend.presets(), ['home', 'Door', 'Street']);
  await backend.gotoPreset('Street');
  t.same(device.position, { x: 0.5, y: -0.2, zoom: 0.6 }, 'the camera\'s preset by its token');
  t.equal(device.calls.filter((call) => call.operation === 'GotoPreset').at(-1)?.body.PresetToken, '2');
  await backend.gotoPreset('home');
  t.same(device.position, { x: 0, y: 0, zoom: 0 }, 'a configured preset is an absolute move');
  await t.rejects(backend.gotoPreset('<script>'), { code: 'NO_PRESET' });
});

t.test('a camera that refuses, faults, hangs or answers hostile XML gives the queue a clear error and recovers', async (t) => {
  const wrong = await setup(t, { password: 'nope' });
  await t.rejects(wrong.backend.goto({ pan: 0, tilt: 0, zoom: 10 }), { name: 'ControlError', code: 'CAMERA_REFUSED', message: /credentials|Authorized/ });
  const { device, backend } = await setup(t);
  for (const [fault, code] of [['soap-fault', 'CAMERA_REFUSED'], ['malformed', 'CAMERA_REFUSED'], ['xml-bomb', 'CAMERA_REFUSED'], ['hang', 'CAMERA_TIMEOUT']] as const) {
    device.fault = fault;
    await t.rejects(backend.goto({ pan: 10, tilt: 0, zoom: 10 }), { code }, fault);
  }
  device.fault = 'none';
  t.same(await backend.goto({ pan: 0, tilt: 30, zoom: 60 }), { pan: 0, tilt: 30, zoom: 60 }, 'works again once the camera does');
  await device.stop();
  await t.rejects(backend.goto({ pan: 1, tilt: 0, zoom: 10 }), { code: 'CAMERA_UNREACHABLE' });
});

t.test('the camera\'s own presets are read before any command; a camera that hangs is not asked again at each page load', async (t) => {
  const { backend } = await setup(t);
  t.same(backend.presets(), ['home'], 'nothing read yet');
  await backend.findPresets();
  t.same(backend.presets(), ['home', 'Door', 'Street']);
  const hung = await setup(t, { config: { timeoutMs: 300 } });
  hung.device.fault = 'hang';
  let started = Date.now();
  await hung.backend.findPresets();
  t.ok(Date.now() - started >= 290, 'the first page load waited for the camera, up to ControlTimeout');
  started = Date.now();
  await hung.backend.findPresets();
  t.ok(Date.now() - started < 100, 'the next page load does not wait out the timeout again');
});
