import { execFile } from 'node:child_process';
import { writeFile, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import t from 'tap';
import { GstRtspServer } from '../adapters/rtsp/gst-server.ts';
import { OnvifDeviceSimulator } from '../helpers/onvif-device.ts';
import { ffprobe, waitFor } from '../helpers/probe.ts';
import { startTestRelayFor } from '../helpers/relay.ts';

const run = promisify(execFile);
const BIN = fileURLToPath(new URL('../../relay/bin.mjs', import.meta.url));

t.test('an onvif:// camera plays from the RTSP address the device gives, asked again at each start', async (t) => {
  const first = await GstRtspServer.start({ codec: 'h264', fps: 10 });
  const device = await new OnvifDeviceSimulator({ username: 'admin', password: 'pw', streamUri: first.url }).start();
  const relay = await startTestRelayFor(t, `<Camera cam>
  Source onvif://127.0.0.1:${device.port}/
  Username admin
  Password pw
  Timeout 5
</Camera>
<Stream cam.flv>
  Feed cam
  VideoCodec copy
</Stream>
`, () => device.stop());
  const stream = await ffprobe(`${relay.baseUrl}/cam.flv`, 2);
  t.equal(stream.codec_name, 'h264');
  t.ok(Number(stream.nb_read_frames) >= 5, `${stream.nb_read_frames} frames through the ONVIF camera's own RTSP address`);
  const asked = device.calls.filter((call) => call.operation === 'GetStreamUri').length;
  t.ok(asked >= 1);

  // The camera's RTSP server moves (a firmware update, a new port): the next start follows it.
  await first.stop();
  const second = await GstRtspServer.start({ codec: 'h264', fps: 10 });
  t.teardown(() => second.stop());
  device.streamUri = second.url;
  await waitFor(() => device.calls.filter((call) => call.operation === 'GetStreamUri').length > asked, 30_000, 'GetStreamUri asked again');
  const again = await ffprobe(`${relay.baseUrl}/cam.flv`, 2);
  t.ok(Number(again.nb_read_frames) >= 5, `${again.nb_read_frames} frames from the new address`);
  t.notOk(relay.logs.join('\n').includes('pw'), 'the password is never logged');
});

t.test('an onvif:// camera with wrong credentials says so on /stat.json', async (t) => {
  const device = await new OnvifDeviceSimulator({ username: 'admin', password: 'pw' }).start();
  const relay = await startTestRelayFor(t, `<Camera cam>\n  Source onvif://admin:nope@127.0.0.1:${device.port}/\n</Camera>\n<Stream cam.flv>\n  Feed cam\n</Stream>\n`, () => device.stop());
  await fetch(`${relay.baseUrl}/cam.flv`, { signal: AbortSignal.timeout(1500) }).then((response) => response.body?.cancel()).catch(() => {});
  let error = '';
  await waitFor(async () => {
    const status = (await (await fetch(`${relay.baseUrl}/stat.json`)).json()) as { cameras: Array<{ lastError: { message: string } | null }> };
    error = status.cameras[0]?.lastError?.message ?? '';
    return error !== '';
  }, 15_000, 'an error on /stat.json');
  t.match(error, /^AUTH: ONVIF/);
});

t.test('viewers steer an ONVIF camera through the control API', async (t) => {
  const device = await new OnvifDeviceSimulator({ username: 'admin', password: 'pw' }).start();
  const relay = await startTestRelayFor(t, `<Camera ptz>
  Source testsrc://?size=160x120&rate=5
  OnDemand yes
  Username admin
  Password pw
  Control onvif
  ControlAddress http://127.0.0.1:${device.port}
  ControlPanRange -100 100
  ControlTiltRange -50 50
  ControlZoomRange 5 65
</Camera>
<Stream ptz.flv>
  Feed ptz
</Stream>
`, () => device.stop());
  const api = `${relay.baseUrl}/api/control/ptz`;
  const post = async (action: string, body: object): Promise<{ status: number; json: Record<string, any> }> => {
    const response = await fetch(`${api}/${action}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    return { status: response.status, json: (await response.json()) as Record<string, any> };
  };
  const holder = await post('request', {});
  t.equal(holder.status, 200);
  const moved = await post('goto', { id: holder.json.id, pan: 50, tilt: 0, zoom: 35 });
  t.equal(moved.status, 200, JSON.stringify(moved.json));
  t.same(device.position, { x: 0.5, y: 0, zoom: 0.5 });
  const preset = await post('preset', { id: holder.json.id, name: 'Door' });
  t.equal(preset.status, 200, JSON.stringify(preset.json));
  t.same(device.position, { x: -0.5, y: 0.1, zoom: 0.2 }, "the camera's own preset");
  const state = (await (await fetch(api)).json()) as { presets: string[] };
  t.same(state.presets, ['Door', 'Street']);
});

t.test('relay --discover finds the device and prints a Camera block that --check accepts', async (t) => {
  const device = await new OnvifDeviceSimulator({ username: 'admin', password: 'pw' }).start();
  t.teardown(() => device.stop());
  const { stdout } = await run(process.execPath, [BIN, '--discover', '--probe', `127.0.0.1:${device.discoveryPort}`, '--username', 'admin', '--password', 'pw', '--timeout', '2'], { timeout: 30_000 });
  t.match(stdout, `Source onvif://127.0.0.1:${device.port}/`);
  t.match(stdout, /^<Camera simulated-ptz-1>$/m);
  t.match(stdout, /^ {2}Control onvif$/m);
  t.match(stdout, '# RTSP: rtsp://');
  t.match(stdout, 'profiles: Main 640x480 (PTZ)');
  const dir = await mkdtemp(join(tmpdir(), 'relay-discover-'));
  const file = join(dir, 'relay.conf');
  await writeFile(file, `HTTPPort 0\n${stdout}\n<Stream cam.flv>\n  Feed simulated-ptz-1\n</Stream>\n`);
  const check = await run(process.execPath, [BIN, '--check', file], { timeout: 30_000 });
  t.match(check.stdout, /: ok$/m);

  const nobody = await run(process.execPath, [BIN, '--discover', '--probe', '127.0.0.1:9', '--timeout', '0.5'], { timeout: 30_000 }).catch((error: { code: number; stderr: string }) => error);
  t.equal((nobody as { code: number }).code, 1);
  t.match((nobody as { stderr: string }).stderr, 'no ONVIF camera answered a probe to 127.0.0.1:9');
  const bad = await run(process.execPath, [BIN, '--discover', '--probe', 'not-an-address'], { timeout: 30_000 }).catch((error: { code: number; stderr: string }) => error);
  t.equal((bad as { code: number }).code, 2);
});
