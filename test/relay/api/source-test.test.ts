import { createServer, type Socket } from 'node:net';
import t from 'tap';
import { hashPassword } from '../../../lib/password.ts';
import { SOURCE_TEST_TIMEOUT_MS } from '../../../relay/api/source-test.ts';
import { startTestRelayFor } from '../../helpers/relay.ts';
import { basic } from '../../helpers/request.ts';
import { unusedPort } from '../../helpers/ports.ts';

const CONFIG = `<Camera door>
  Source testsrc://?size=160x120&rate=5
</Camera>
<Stream door.flv>
  Feed door
  VideoFrameRate 10
  VideoSize 320x240
  VideoBitRate 300
</Stream>
`;

async function post(baseUrl: string, body: unknown, headers: Record<string, string> = {}): Promise<{ status: number; json: any; ms: number }> {
  const started = Date.now();
  const response = await fetch(`${baseUrl}/api/cameras/test`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: typeof body === 'string' ? body : JSON.stringify(body) });
  const text = await response.text();
  let json: unknown = text;
  try {
    json = JSON.parse(text);
  } catch {
    // plain-text error
  }
  return { status: response.status, json, ms: Date.now() - started };
}

t.test('the source test route', async (t) => {
  const relay = await startTestRelayFor(t, CONFIG);

t.test('a synthetic JPEG source answers its codec, size, frame rate and a snapshot', async (t) => {
  const answer = await post(relay.baseUrl, { source: 'testsrc://?size=176x144&rate=10' });
  t.equal(answer.status, 200, JSON.stringify(answer.json).slice(0, 200));
  t.match(answer.json, { ok: true, codec: 'jpeg', width: 176, height: 144 });
  t.ok(answer.json.frameRate > 7 && answer.json.frameRate < 13, `about 10 fps measured: ${answer.json.frameRate}`);
  t.ok(answer.json.frames >= 5, 'frames counted');
  const jpeg = Buffer.from(String(answer.json.snapshot).replace(/^data:image\/jpeg;base64,/, ''), 'base64');
  t.ok(jpeg.subarray(0, 2).equals(Buffer.from([0xff, 0xd8])) && jpeg.subarray(-2).equals(Buffer.from([0xff, 0xd9])), 'the snapshot is a whole JPEG');
  t.same(relay.relay.config.cameras.map((camera) => camera.name), ['door'], 'nothing was added to the config');
});

t.test('an H.264 source (a relay\'s FLV stream, here its own) is decoded to a snapshot', async (t) => {
  const answer = await post(relay.baseUrl, { source: `${relay.baseUrl}/door.flv` });
  t.equal(answer.status, 200, JSON.stringify(answer.json).slice(0, 300));
  t.match(answer.json, { ok: true, codec: 'h264', width: 320, height: 240 });
  t.match(answer.json.snapshot, /^data:image\/jpeg;base64,\/9j\//, 'decoded to a JPEG');
});

t.test('an unreachable or silent source is a clear error within the timeout', async (t) => {
  const closed = await post(relay.baseUrl, { source: `rtsp://127.0.0.1:${await unusedPort()}/stream` });
  t.equal(closed.status, 502, JSON.stringify(closed.json));
  t.match(closed.json.error, /the source failed: .*(refused|ECONNREFUSED)/i);
  // A server that accepts the connection and never answers.
  const sockets = new Set<Socket>();
  const silent = createServer((socket) => sockets.add(socket));
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  t.teardown(() => {
    for (const socket of sockets) socket.destroy();
    silent.close();
  });
  const port = (silent.address() as { port: number }).port;
  const mute = await post(relay.baseUrl, { source: `http://127.0.0.1:${port}/video.mjpg` });
  t.ok(mute.status === 504 || mute.status === 502, `refused: ${mute.status} ${JSON.stringify(mute.json)}`);
  t.match(mute.json.error, /no picture within 5 s|the source failed/);
  t.ok(mute.ms < SOURCE_TEST_TIMEOUT_MS + 2000, `answered in ${mute.ms} ms`);
});

t.test('hostile input is refused with a clear error', async (t) => {
  const cases: Array<[unknown, RegExp]> = [
    [JSON.stringify({ source: `testsrc://?${'x'.repeat(10_000)}` }), /the body is limited to 4096 bytes/],
    [{ source: 'ftp://camera/' }, /Source: no adapter for ftp:\/\//],
    [{ source: 'testsrc://\n</Camera>\nOnEventExec /bin/sh' }, /control characters and line breaks are not allowed/],
    [{ source: 'vod-live://../../../etc/passwd' }, /file name may not contain/],
    [{ source: 'push://door' }, /wait for a publisher/],
    [{ source: 42 }, /source must be a string/],
    [{ source: 'testsrc://', password: 'a\nb' }, /password: control characters are not allowed/],
    [{}, /source: required/],
    ['{"source": ', /not valid JSON/],
  ];
  for (const [body, message] of cases) {
    const answer = await post(relay.baseUrl, body);
    t.ok(answer.status === 400 || answer.status === 502, `${String(typeof body === 'string' ? body : JSON.stringify(body)).slice(0, 60)}: ${answer.status}`);
    t.match(JSON.stringify(answer.json), message);
  }
  t.same(relay.relay.config.cameras.map((camera) => camera.name), ['door']);
});
});

t.test('one test at a time, on the admin plane', async (t) => {
  const hash = await hashPassword('secret-password', 1024);
  const relay = await startTestRelayFor(t, `AdminUser admin ${hash}\n${CONFIG}`);
  t.equal((await post(relay.baseUrl, { source: 'testsrc://' })).status, 401, 'needs admin credentials');
  const authorization = basic('admin', 'secret-password');
  const [first, second] = await Promise.all([
    post(relay.baseUrl, { source: 'testsrc://?size=160x120&rate=5' }, { authorization }),
    new Promise((resolve) => setTimeout(resolve, 200)).then(() => post(relay.baseUrl, { source: 'testsrc://' }, { authorization })),
  ]);
  t.equal(first.status, 200);
  t.equal(second.status, 503, 'a second test while one runs is refused');
  t.match(second.json, /another source test is under way/);
});
