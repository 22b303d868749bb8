import { readFile } from 'node:fs/promises';
import t from 'tap';
import { hashPassword } from '../../../lib/password.ts';
import { startTestRelay } from '../../helpers/relay.ts';
import { basic } from '../../helpers/request.ts';
import { waitFor } from '../../helpers/probe.ts';

const CONFIG = `# the operator's own comment at the top
<Camera door>
  # the front door; keep this note
  Source testsrc://?size=160x120&rate=5
  InputFrameRate 5   # trailing note
</Camera>
`;

async function call(baseUrl: string, method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<{ status: number; json: any }> {
  const response = await fetch(`${baseUrl}${path}`, { method, headers: { 'content-type': 'application/json', ...headers }, body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body) });
  const text = await response.text();
  let json: unknown = text;
  try {
    json = JSON.parse(text);
  } catch {
    // plain-text error
  }
  return { status: response.status, json };
}

t.test('cameras and streams are listed, added, changed and removed; relay.conf keeps its comments and a backup', async (t) => {
  const relay = await startTestRelay(CONFIG);
  t.teardown(() => relay.stop());
  const listed = await call(relay.baseUrl, 'GET', '/api/cameras');
  t.match(listed.json, [{ name: 'door', scheme: 'testsrc', onDemand: false, record: false }]);
  const added = await call(relay.baseUrl, 'POST', '/api/cameras', { name: 'yard', directives: { Source: 'testsrc://?size=160x120&rate=5', OnDemand: 'yes' } });
  t.equal(added.status, 201, JSON.stringify(added.json));
  t.ok(relay.relay.feeds.has('yard'), 'applied like a reload');
  t.equal((await call(relay.baseUrl, 'POST', '/api/streams', { name: 'yard.mjpg', directives: { Feed: 'yard' } })).status, 201);
  await waitFor(() => relay.relay.outputs.has('yard.mjpg'), 5000, 'the stream served');
  const changed = await call(relay.baseUrl, 'PUT', '/api/cameras/door', { directives: { InputFrameRate: '2', OnDemand: 'yes' } });
  t.equal(changed.status, 200, JSON.stringify(changed.json));
  t.equal(relay.relay.config.cameras.find((camera) => camera.name === 'door')!.inputFrameRate, 2);
  const text = await readFile(relay.configFile, 'utf8');
  t.match(text, /# the operator's own comment at the top\n<Camera door>\n  # the front door; keep this note\n  Source testsrc:\/\/\?size=160x120&rate=5\n  InputFrameRate 2\n  OnDemand yes\n<\/Camera>\n/, 'changed in place, comments and order kept');
  t.match(await readFile(`${relay.configFile}.bak`, 'utf8'), /InputFrameRate 5   # trailing note/, 'the previous file kept as .bak');
  t.equal((await call(relay.baseUrl, 'DELETE', '/api/streams/yard.mjpg')).status, 200);
  t.equal((await call(relay.baseUrl, 'DELETE', '/api/cameras/yard')).status, 200);
  t.notOk(relay.relay.feeds.has('yard'));
  t.notMatch(await readFile(relay.configFile, 'utf8'), /yard/);
  t.equal((await call(relay.baseUrl, 'DELETE', '/api/cameras/yard')).status, 404);
});

t.test('hostile input is refused with a clear error, and relay.conf is left as it was', async (t) => {
  const relay = await startTestRelay(CONFIG);
  t.teardown(() => relay.stop());
  const before = await readFile(relay.configFile, 'utf8');
  const cases: Array<[string, string, unknown, number, RegExp]> = [
    ['POST', '/api/cameras', { name: 'x', directives: { Source: 'testsrc://\n</Camera>\nOnEventExec /bin/sh' } }, 400, /control characters and line breaks are not allowed/],
    ['POST', '/api/cameras', { name: 'x', directives: { Source: 'testsrc://', OnEventExec: '/bin/sh -c id' } }, 400, /OnEventExec: names a program and can only be set in relay.conf itself/],
    ['PUT', '/api/cameras/door', { directives: { FFmpegPath: '/tmp/evil' } }, 400, /FFmpegPath: names a program/],
    ['POST', '/api/cameras', { name: '../../etc', directives: { Source: 'testsrc://' } }, 400, /name: use letters, digits/],
    ['POST', '/api/cameras', { name: 'x', directives: { Source: 'ftp://camera/' } }, 400, /Source: no adapter for ftp:\/\//],
    ['POST', '/api/cameras', { name: 'x', directives: { Sorce: 'testsrc://' } }, 400, /unknown directive in a <Camera> block \(did you mean Source\?\)/],
    ['POST', '/api/cameras', { name: 'door', directives: { Source: 'testsrc://' } }, 400, /the name door is already used/],
    ['POST', '/api/streams', { name: 'api', directives: { Feed: 'door', Format: 'flv' } }, 400, /reserved/],
    ['PUT', '/api/cameras/door', { directives: { Source: null } }, 400, /missing required directive Source/],
    ['PUT', '/api/cameras/door', { directives: { Source: 42 } }, 400, /the value must be a string/],
    ['PUT', '/api/cameras/nobody', { directives: { OnDemand: 'yes' } }, 404, /no <Camera nobody>/],
    ['POST', '/api/cameras', '{"name": "x", ', 400, /not valid JSON/],
    ['POST', '/api/cameras', { name: 'x', directives: { Source: '<Camera y>' } }, 400, /a value may not start with/],
  ];
  for (const [method, path, body, status, message] of cases) {
    const answer = await call(relay.baseUrl, method, path, body);
    t.equal(answer.status, status, `${method} ${path} ${JSON.stringify(body).slice(0, 80)}`);
    t.match(JSON.stringify(answer.json), message);
  }
  t.equal(await readFile(relay.configFile, 'utf8'), before, 'nothing was written');
  t.equal(relay.relay.feeds.size, 1);
});

t.test('the config API is on the admin plane', async (t) => {
  const hash = await hashPassword('secret-password', 1024);
  const relay = await startTestRelay(`AdminUser admin ${hash}\n${CONFIG}`);
  t.teardown(() => relay.stop());
  t.equal((await call(relay.baseUrl, 'GET', '/api/cameras')).status, 401);
  t.equal((await call(relay.baseUrl, 'POST', '/api/cameras', { name: 'x', directives: { Source: 'testsrc://' } })).status, 401);
  t.equal((await call(relay.baseUrl, 'DELETE', '/api/cameras/door')).status, 401);
  t.equal((await call(relay.baseUrl, 'GET', '/api/cameras', undefined, { authorization: basic('admin', 'secret-password') })).status, 200);
  t.ok(relay.relay.feeds.has('door'));
});
