import t from 'tap';
import { CanonControlCamera } from '../../helpers/canon-control-camera.ts';
import { waitFor } from '../../helpers/probe.ts';
import { startTestRelayFor } from '../../helpers/relay.ts';
import { rejectsConfig } from '../../helpers/config-rejects.ts';

async function post(url: string, body: object): Promise<{ status: number; json: Record<string, any> }> {
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: response.status, json: (await response.json()) as Record<string, any> };
}

t.test('when the last viewer leaves the queue, the camera goes back to its home preset, and only if it moved', async (t) => {
  const camera = await CanonControlCamera.start();
  const relay = await startTestRelayFor(t, `<Camera ptz>
  Source testsrc://?size=160x120&rate=5
  OnDemand yes
  Control canon-http
  ControlAddress ${camera.url}
  ControlPreset home 0 0 40
  ControlHomePreset home
</Camera>
<Stream ptz.flv>
  Feed ptz
</Stream>
`, () => camera.close());
  const api = `${relay.baseUrl}/api/control/ptz`;
  const idle = await post(`${api}/request`, {});
  t.equal((await post(`${api}/leave`, { id: idle.json.id })).status, 200);
  await new Promise((resolve) => setTimeout(resolve, 300));
  t.equal(camera.commands('OperateCamera').length, 0, 'a viewer who never moved it leaves the camera alone');

  const first = await post(`${api}/request`, {});
  const second = await post(`${api}/request`, {});
  t.equal((await post(`${api}/goto`, { id: first.json.id, pan: 20, tilt: 10, zoom: 30 })).status, 200);
  await post(`${api}/leave`, { id: first.json.id });
  await new Promise((resolve) => setTimeout(resolve, 300));
  t.same([camera.pan, camera.tilt], [2000, 1000], 'someone is still waiting: the camera stays');
  await post(`${api}/leave`, { id: second.json.id });
  await waitFor(() => camera.pan === 0 && camera.tilt === 0 && camera.zoom === 4000, 5000, 'the home preset');
  t.match(relay.logs.join('\n'), 'the control queue is empty: back to preset home');
});

t.test('ControlHomePreset must name a ControlPreset of a canon-http camera', async (t) => {
  const config = (home: string): string => `<Camera ptz>\n  Source testsrc://\n  Control canon-http\n  ControlAddress http://127.0.0.1:9\n  ControlHomePreset ${home}\n</Camera>\n<Stream ptz.flv>\n  Feed ptz\n</Stream>\n`;
  rejectsConfig(t, config('nowhere'), 'relay.conf:5: ControlHomePreset: no ControlPreset named "nowhere"', ['testsrc']);
  const [problem] = rejectsConfig(t, config('a/b'), 'relay.conf:5: ControlHomePreset: takes one preset name (letters, digits, ".", "_" or "-")', ['testsrc']);
  t.ok(problem);
});
