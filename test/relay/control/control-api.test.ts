import { request as httpRequest, Agent } from 'node:http';
import t, { type Test } from 'tap';
import { hashPassword } from '../../../lib/password.ts';
import { signViewerToken } from '../../../relay/auth/viewer-token.ts';
import { CanonControlCamera } from '../../helpers/canon-control-camera.ts';
import { startTestRelay, type TestRelay } from '../../helpers/relay.ts';

const ADMIN_TOKEN = 'operator-token-for-tests';
const SECRET = 'a-viewer-token-secret-of-32-chars-or-more';
const adminHash = await hashPassword(ADMIN_TOKEN, 1024);

interface Reply {
  status: number;
  json: Record<string, any>;
}

/** A POST with a JSON body (or raw text) from a chosen loopback address. */
function post(url: string, body: unknown, options: { from?: string; headers?: Record<string, string>; agent?: Agent } = {}): Promise<Reply> {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const request = httpRequest(url, { method: 'POST', localAddress: options.from, agent: options.agent ?? false, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...options.headers } }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => {
        const raw = Buffer.concat(chunks).toString();
        let json: Record<string, any> = {};
        try {
          json = JSON.parse(raw);
        } catch {
          json = { raw };
        }
        resolve({ status: response.statusCode ?? 0, json });
      });
    });
    request.on('error', reject);
    request.end(text);
  });
}

/** A Server-Sent Events reader: every event kept, in order. */
function openEvents(url: string, from?: string): Promise<{ status: number; events: Array<{ event: string; data: any }>; next(test: (event: { event: string; data: any }) => boolean, timeoutMs?: number): Promise<{ event: string; data: any }>; close(): void }> {
  return new Promise((resolve, reject) => {
    const events: Array<{ event: string; data: any }> = [];
    const waiters = new Set<() => void>();
    const request = httpRequest(url, { localAddress: from, agent: false }, (response) => {
      let buffer = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => {
        buffer += chunk;
        let end;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const event = /^event: (.*)$/m.exec(block)?.[1];
          const data = /^data: (.*)$/m.exec(block)?.[1];
          if (event && data) events.push({ event, data: JSON.parse(data) });
          for (const waiter of waiters) waiter();
        }
      });
      response.on('error', () => {});
      resolve({
        status: response.statusCode ?? 0,
        events,
        next(test, timeoutMs = 5000) {
          let seen = 0;
          return new Promise((done, fail) => {
            const check = (): void => {
              for (; seen < events.length; seen++) {
                if (test(events[seen]!)) {
                  waiters.delete(check);
                  clearTimeout(timer);
                  return done(events[seen]!);
                }
              }
            };
            const timer = setTimeout(() => {
              waiters.delete(check);
              fail(new Error(`no such event within ${timeoutMs} ms; got ${JSON.stringify(events.slice(-3))}`));
            }, timeoutMs);
            waiters.add(check);
            check();
          });
        },
        close: () => request.destroy(),
      });
    });
    request.on('error', reject);
    request.end();
  });
}

async function setup(t: Test, extra = '', globals = '', blocks = ''): Promise<{ relay: TestRelay; camera: CanonControlCamera; api: string }> {
  const camera = await CanonControlCamera.start();
  const relay = await startTestRelay(`${globals}
<Camera ptz>
  Source testsrc://?size=160x120&rate=5
  OnDemand yes
  Control canon-http
  ControlAddress ${camera.url}
  ControlTimeout 0.5
  ControlPreset home 0 0 40
  ${extra}
</Camera>
<Stream ptz.flv>
  Feed ptz
</Stream>
${blocks}
`);
  t.teardown(async () => {
    await relay.stop();
    await camera.close();
  });
  return { relay, camera, api: `${relay.baseUrl}/api/control/ptz` };
}

const byId = (id: string) => ({ id });

t.test('two viewers take turns: the second waits, then gets control when the first one\'s time ends', async (t) => {
  const { relay, camera, api } = await setup(t, 'ControlHoldSeconds 1\nControlMaxHoldSeconds 1.5\nControlIdleSeconds 5');
  const first = await post(`${api}/request`, {}, { from: '127.0.0.2' });
  t.equal(first.status, 200);
  t.equal(first.json.position, 0, 'the first viewer holds control at once');
  t.match(first.json.id, /^[A-Za-z0-9_-]{24}$/);
  const second = await post(`${api}/request`, {}, { from: '127.0.0.3' });
  t.equal(second.json.position, 1);
  const firstEvents = await openEvents(`${api}/events?id=${first.json.id}`, '127.0.0.2');
  const secondEvents = await openEvents(`${api}/events?id=${second.json.id}`, '127.0.0.3');
  t.teardown(() => { firstEvents.close(); secondEvents.close(); });
  t.equal(secondEvents.status, 200);
  t.match((await secondEvents.next((e) => e.event === 'state')).data, { position: 1, holder: 'viewer 1', waiting: 1 });

  const refused = await post(`${api}/goto`, { ...byId(second.json.id), pan: 10, tilt: 0, zoom: 30 }, { from: '127.0.0.3' });
  t.equal(refused.status, 409, 'the waiting viewer cannot steer');
  t.equal(camera.commands('OperateCamera').length, 0);
  const moved = await post(`${api}/goto`, { ...byId(first.json.id), pan: 10, tilt: -5, zoom: 30 }, { from: '127.0.0.2' });
  t.equal(moved.status, 200, JSON.stringify(moved.json));
  t.same([camera.pan, camera.tilt, camera.zoom], [1000, -500, 3000]);

  const granted = await secondEvents.next((e) => e.event === 'state' && e.data.position === 0, 4000);
  t.match(granted.data, { holder: 'viewer 2', waiting: 0 });
  t.ok(granted.data.timeLeftMs > 0 && granted.data.timeLeftMs <= 1000);
  t.match((await firstEvents.next((e) => e.event === 'ended')).data, { reason: 'time' });
  t.equal((await post(`${api}/move`, { ...byId(first.json.id), pan: 1 })).status, 409, 'the first viewer\'s time is over');
  t.equal((await post(`${api}/preset`, { ...byId(second.json.id), name: 'home' })).status, 200);
  t.same([camera.pan, camera.tilt, camera.zoom], [0, 0, 4000]);
  t.match(relay.logs.join('\n'), /viewer 1 \(127\.0\.0\.2\): goto pan 10 tilt -5 zoom 30/, 'commands are logged with who sent them');
  t.notMatch(relay.logs.join('\n'), new RegExp(first.json.id), 'ids, which act as credentials, are not logged');
});

t.test('an idle holder loses control; a viewer whose event stream closes leaves the queue', async (t) => {
  const { api } = await setup(t, 'ControlIdleSeconds 0.6');
  const first = await post(`${api}/request`, {}, { from: '127.0.0.2' });
  const second = await post(`${api}/request`, {}, { from: '127.0.0.3' });
  const firstEvents = await openEvents(`${api}/events?id=${first.json.id}`);
  const secondEvents = await openEvents(`${api}/events?id=${second.json.id}`);
  t.teardown(() => { firstEvents.close(); secondEvents.close(); });
  t.match((await firstEvents.next((e) => e.event === 'ended', 3000)).data, { reason: 'idle' });
  await secondEvents.next((e) => e.event === 'state' && e.data.position === 0, 3000);
  secondEvents.close();
  let state: Record<string, any> = {};
  for (let i = 0; i < 50; i++) {
    state = (await (await fetch(api)).json()) as Record<string, any>;
    if (state.holder === undefined) break;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  t.same([state.holder, state.waiting], [undefined, 0], 'the queue is empty once the holder\'s stream closed');
  t.equal((await post(`${api}/stop`, byId(second.json.id))).status, 409);
});

t.test('bad input gets a clear 4xx, never a crash', async (t) => {
  const { api, camera } = await setup(t, 'ControlPanRange -100 100');
  const { json: { id } } = await post(`${api}/request`, {});
  const events = await openEvents(`${api}/events?id=${id}`);
  t.teardown(() => events.close());
  const cases: Array<[string, unknown, number]> = [
    ['goto', { id, pan: 1e308, tilt: 0, zoom: 30 }, 400],
    ['goto', { id, pan: 101, tilt: 0, zoom: 30 }, 400],
    ['goto', { id, pan: 'NaN', tilt: 0, zoom: 30 }, 400],
    ['goto', { id, pan: null, tilt: 0, zoom: 30 }, 400],
    ['goto', '{"id": "x", "pan": NaN}', 400],
    ['goto', `{"id": "${id}", "pan": 1e999, "tilt": 0, "zoom": 30}`, 400],
    ['move', { id, pan: 2 }, 400],
    ['move', { id, pan: -Infinity }, 400],
    ['move', [id], 400],
    ['preset', { id, name: 'nowhere' }, 404],
    ['preset', { id, name: '../../etc' }, 400],
    ['goto', { pan: 0, tilt: 0, zoom: 30 }, 400],
    ['goto', { id: 'x'.repeat(65), pan: 0, tilt: 0, zoom: 30 }, 400],
    ['goto', { id: `${id.slice(0, -1)}${id.endsWith('A') ? 'B' : 'A'}`, pan: 0, tilt: 0, zoom: 30 }, 409],
    ['goto', { id: 'forged-holder-id-000000', pan: 0, tilt: 0, zoom: 30 }, 409],
    ['stop', 'x'.repeat(5000), 400],
  ];
  for (const [action, body, status] of cases) {
    const reply = await post(`${api}/${action}`, body);
    t.equal(reply.status, status, `${action} ${JSON.stringify(body).slice(0, 60)}: ${JSON.stringify(reply.json).slice(0, 100)}`);
  }
  t.equal(camera.commands('OperateCamera').length, 0, 'nothing refused reached the camera');
  t.equal((await openEvents(`${api}/events?id=forged`)).status, 404);
  t.equal((await post(`${api}/goto`, { id, pan: 100, tilt: 0, zoom: 30 })).status, 200, 'the holder still steers');
});

t.test('1,000 commands from the holder: the rate limit holds and the camera sees only the accepted ones', async (t) => {
  const { api, camera } = await setup(t, 'ControlCommandRate 5');
  const { json: { id } } = await post(`${api}/request`, {});
  const events = await openEvents(`${api}/events?id=${id}`);
  t.teardown(() => events.close());
  const agent = new Agent({ keepAlive: true, maxSockets: 16 });
  t.teardown(() => agent.destroy());
  const started = Date.now();
  const statuses = await Promise.all(Array.from({ length: 1000 }, (_, i) => post(`${api}/move`, { id, pan: i % 2 ? 0.5 : -0.5 }, { agent }).then((reply) => reply.status)));
  const seconds = (Date.now() - started) / 1000;
  const accepted = statuses.filter((status) => status === 200).length;
  t.equal(statuses.filter((status) => status !== 200 && status !== 429).length, 0, 'every answer is 200 or 429');
  t.ok(accepted >= 1 && accepted <= 5 + Math.ceil(seconds * 5) + 1, `${accepted} accepted in ${seconds} s at 5 a second`);
  t.equal(camera.commands('OperateCamera').length, accepted);
});

t.test('the operator takes control and locks the camera; viewers cannot', async (t) => {
  const { api, camera, relay } = await setup(t, '', `AdminToken ${adminHash}\n`, '<Camera plain>\n Source testsrc://\n OnDemand yes\n</Camera>\n');
  const admin = { authorization: `Bearer ${ADMIN_TOKEN}` };
  // A player page asks each camera for control: one without it answers 404, never an admin challenge (a login prompt).
  const plain = await fetch(`${relay.baseUrl}/api/control/plain`);
  t.same([plain.status, plain.headers.get('www-authenticate')], [404, null]);
  t.equal((await fetch(api)).status, 200, 'the queue of a public control camera is open to viewers');
  t.equal((await post(`${api}/operator/lock`, {})).status, 401);
  const viewer = await post(`${api}/request`, {});
  const events = await openEvents(`${api}/events?id=${viewer.json.id}`);
  t.teardown(() => events.close());
  t.equal((await post(`${api}/operator/take`, {})).status, 401, 'a viewer is no operator');
  const operator = await post(`${api}/operator/take`, {}, { headers: admin });
  t.equal(operator.status, 200);
  await events.next((e) => e.event === 'state' && e.data.position === 1 && e.data.holder === operator.json.label);
  t.equal((await post(`${api}/goto`, { id: viewer.json.id, pan: 1, tilt: 0, zoom: 30 })).status, 409);
  t.equal((await post(`${api}/goto`, { id: operator.json.id, pan: -20, tilt: 0, zoom: 30 })).status, 200);
  t.equal(camera.pan, -2000);
  t.equal((await post(`${api}/operator/lock`, {}, { headers: admin })).status, 200);
  t.equal((await post(`${api}/operator/release`, {}, { headers: admin })).json.released, true);
  await events.next((e) => e.event === 'state' && e.data.locked === true && e.data.holder === undefined && e.data.position === 1);
  t.equal((await post(`${api}/operator/unlock`, {}, { headers: admin })).status, 200);
  await events.next((e) => e.event === 'state' && e.data.position === 0);
  t.equal((await post(`${api}/goto`, { id: viewer.json.id, pan: 3, tilt: 0, zoom: 30 })).status, 200, 'control returns to the viewer');
});

t.test('a camera that never answers or refuses: timeouts, clear errors, and the queue moves on', async (t) => {
  const { api, camera } = await setup(t, 'ControlIdleSeconds 1.2');
  const first = await post(`${api}/request`, {}, { from: '127.0.0.2' });
  const second = await post(`${api}/request`, {}, { from: '127.0.0.3' });
  const firstEvents = await openEvents(`${api}/events?id=${first.json.id}`);
  const secondEvents = await openEvents(`${api}/events?id=${second.json.id}`);
  t.teardown(() => { firstEvents.close(); secondEvents.close(); });
  camera.mode = 'silent';
  const started = Date.now();
  const timedOut = await post(`${api}/goto`, { id: first.json.id, pan: 1, tilt: 0, zoom: 30 });
  t.equal(timedOut.status, 504);
  t.ok(Date.now() - started < 1500, 'answered within the timeout');
  camera.mode = 'refuse';
  const refused = await post(`${api}/goto`, { id: first.json.id, pan: 1, tilt: 0, zoom: 30 });
  t.equal(refused.status, 502);
  t.match(refused.json.error, /refused GetCameraControl \(403 camera control not permitted\)/);
  t.notMatch(refused.json.error, /127\.0\.0\.1/, 'the camera\'s address is not shown');
  // Failed commands are no activity: the first viewer loses control and the second one gets it.
  t.match((await firstEvents.next((e) => e.event === 'ended', 4000)).data, { reason: 'idle' });
  await secondEvents.next((e) => e.event === 'state' && e.data.position === 0, 2000);
  camera.mode = 'ok';
  t.equal((await post(`${api}/goto`, { id: second.json.id, pan: 2, tilt: 0, zoom: 30 })).status, 200);
});

t.test('queue bounds, token-only control, and cameras without control', async (t) => {
  const token = signViewerToken(SECRET, 'control/ptz', Math.floor(Date.now() / 1000) + 60);
  const { api, relay } = await setup(t, 'ControlMaxQueue 2\nControlMaxPerAddress 1\nControlAccess token', `ViewerTokenSecret ${SECRET}\n`);
  t.equal((await post(`${api}/request`, {})).status, 403, 'control needs a token for control/ptz');
  const streamToken = signViewerToken(SECRET, 'ptz.flv', Math.floor(Date.now() / 1000) + 60);
  t.equal((await post(`${api}/request?token=${streamToken}`, {})).status, 403, 'a token of the stream is not one for control');
  t.equal((await post(`${api}/request?token=${token}`, {}, { from: '127.0.0.2' })).status, 200);
  t.equal((await post(`${api}/request?token=${token}`, {}, { from: '127.0.0.2' })).status, 429, 'one place per address');
  t.equal((await post(`${api}/request?token=${token}`, {}, { from: '127.0.0.3' })).status, 200);
  t.equal((await post(`${api}/request?token=${token}`, {}, { from: '127.0.0.4' })).status, 503, 'the queue is full');
  t.equal((await fetch(`${relay.baseUrl}/ptz.flv`, { method: 'HEAD' })).status, 200, 'watching stays public');
  t.equal((await fetch(`${relay.baseUrl}/api/control/nosuch`)).status, 404);
});
