import t from 'tap';
import { NO_CONTROL, type CameraControlConfig } from '../../../conf/control.ts';
import { silentLogger } from '../../../lib/log.ts';
import { ControlError } from '../../../relay/control/backend.ts';
import { CanonHttpBackend } from '../../../relay/control/canon-http.ts';
import { CanonControlCamera } from '../../helpers/canon-control-camera.ts';

function backendFor(camera: CanonControlCamera, overrides: Partial<CameraControlConfig> = {}, credentials = { username: undefined as string | undefined, password: undefined as string | undefined }) {
  return new CanonHttpBackend({ ...NO_CONTROL, kind: 'canon-http', address: camera.url, timeoutMs: 500, ...overrides }, credentials, silentLogger);
}

async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
    return 'resolved';
  } catch (error) {
    return error instanceof ControlError ? error.code : `other: ${String(error)}`;
  }
}

t.test('goto opens a session, takes control, and sends the position in 0.01 degrees', async (t) => {
  const camera = await CanonControlCamera.start();
  camera.credentials = 'user:secret';
  t.teardown(() => camera.close());
  const backend = backendFor(camera, {}, { username: 'user', password: 'secret' });
  const position = await backend.goto({ pan: 12.34, tilt: -5.5, zoom: 20 });
  t.same(position, { pan: 12.34, tilt: -5.5, zoom: 20 });
  t.same([camera.pan, camera.tilt, camera.zoom], [1234, -550, 2000]);
  t.same(camera.requests.map((request) => request.command), ['OpenCameraServer', 'GetCameraControl', 'GetCameraInfo', 'OperateCamera']);
  await backend.close();
  t.same(camera.requests.slice(-2).map((request) => request.command), ['ReleaseCameraControl', 'CloseCameraServer']);
  await backend.close();
});

t.test('a move steps from the camera\'s position and stays within the limits the camera reports', async (t) => {
  const camera = await CanonControlCamera.start();
  t.teardown(() => camera.close());
  camera.pan = 16800;
  const backend = backendFor(camera);
  t.teardown(() => backend.close());
  const position = await backend.move({ pan: 1, tilt: 0, zoom: 1 });
  // 168 + 5 is past the camera's right limit (170): clamped there; zooming in narrows the field of view by 5 degrees.
  t.same(position, { pan: 170, tilt: 0, zoom: 35 });
  t.equal(camera.pan, 17000);
});

t.test('control taken by another client: asked for again once, then the command goes through', async (t) => {
  const camera = await CanonControlCamera.start();
  t.teardown(() => camera.close());
  const backend = backendFor(camera);
  t.teardown(() => backend.close());
  await backend.goto({ pan: 1, tilt: 1, zoom: 30 });
  camera.takeControlElsewhere();
  await backend.goto({ pan: 2, tilt: 1, zoom: 30 });
  t.equal(camera.pan, 200);
  t.equal(camera.commands('GetCameraControl').length, 2);
});

t.test('the camera\'s own errors become ControlErrors, never crashes', async (t) => {
  const camera = await CanonControlCamera.start();
  t.teardown(() => camera.close());
  camera.mode = 'refuse';
  t.equal(await codeOf(backendFor(camera).goto({ pan: 0, tilt: 0, zoom: 30 })), 'CAMERA_REFUSED');
  camera.mode = 'busy';
  t.equal(await codeOf(backendFor(camera).goto({ pan: 0, tilt: 0, zoom: 30 })), 'CAMERA_BUSY');
  camera.mode = 'silent';
  const started = Date.now();
  t.equal(await codeOf(backendFor(camera, { timeoutMs: 300 }).goto({ pan: 0, tilt: 0, zoom: 30 })), 'CAMERA_TIMEOUT');
  t.ok(Date.now() - started < 2000, 'the timeout bounds the wait');
  await camera.close();
  t.equal(await codeOf(backendFor(camera).goto({ pan: 0, tilt: 0, zoom: 30 })), 'CAMERA_UNREACHABLE');
});
