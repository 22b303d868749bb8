// Guards event streams escaping MaxUnauthenticatedPerIP: one address could hold as many as it had places (1,000 held).
import { connect, type Socket } from 'node:net';
import { Agent, request } from 'node:http';
import t from 'tap';
import { CanonControlCamera } from '../../helpers/canon-control-camera.ts';
import { startTestRelay } from '../../helpers/relay.ts';

const camera = await CanonControlCamera.start();
const relay = await startTestRelay(`MaxUnauthenticatedPerIP 100
<Camera ptz>
  Source testsrc://?size=160x120&rate=5
  OnDemand yes
  Control canon-http
  ControlAddress ${camera.url}
  ControlMaxQueue 1000
  ControlMaxPerAddress 1000
  ControlIdleSeconds 600
</Camera>
`);
const agent = new Agent({ keepAlive: true, maxSockets: 8 });
t.teardown(async () => {
  agent.destroy();
  await relay.stop();
  await camera.close();
});
const port = Number(new URL(relay.baseUrl).port);

function place(from: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const post = request(`${relay.baseUrl}/api/control/ptz/request`, { method: 'POST', agent: from === '127.0.0.1' ? agent : false, localAddress: from, headers: { 'content-type': 'application/json', 'content-length': 2 } }, (response) => {
      let raw = '';
      response.setEncoding('utf8').on('data', (chunk: string) => (raw += chunk)).on('end', () => resolve(JSON.parse(raw).id as string));
    });
    post.on('error', reject);
    post.end('{}');
  });
}

/** Opens an event stream on a raw socket; resolves with its status line and what came with it. */
function openStream(id: string, from = '127.0.0.1'): Promise<{ socket: Socket; head: string }> {
  return new Promise((resolve) => {
    const socket = connect({ port, host: '127.0.0.1', localAddress: from });
    let head = '';
    const done = (): void => resolve({ socket, head });
    const timer = setTimeout(done, 10_000);
    socket.on('error', () => {});
    socket.on('data', (chunk: Buffer) => {
      head += chunk.toString('utf8');
      if (/\r\n\r\n[\s\S]*(\}|\n\n)/.test(head)) {
        clearTimeout(timer);
        done();
      }
    });
    socket.once('close', () => { clearTimeout(timer); done(); });
    socket.write(`GET /api/control/ptz/events?id=${id} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`);
  });
}

t.test('event streams from one address past MaxUnauthenticatedPerIP are refused with 429 and a clear body', async (t) => {
  const ids: string[] = [];
  for (let i = 0; i < 250; i++) ids.push(await place('127.0.0.1'));
  const streams = await Promise.all(ids.map((id) => openStream(id)));
  t.teardown(() => { for (const stream of streams) stream.socket.destroy(); });
  const status = (head: string): string => /^HTTP\/1\.1 (\d+)/.exec(head)?.[1] ?? 'none';
  const counts: Record<string, number> = {};
  for (const stream of streams) counts[status(stream.head)] = (counts[status(stream.head)] ?? 0) + 1;
  t.same(counts, { 200: 100, 429: 150 }, 'the first 100 are served, the rest refused');
  const refused = streams.find((stream) => status(stream.head) === '429')!.head;
  t.match(refused, /too many control event streams from this address \(100 open; MaxUnauthenticatedPerIP 100\)/);
  t.match(refused, /Retry-After: 10/i);

  const other = await openStream(await place('127.0.0.2'), '127.0.0.2');
  t.teardown(() => other.socket.destroy());
  t.equal(status(other.head), '200', 'another address still gets its stream');
  for (const stream of streams.filter((stream) => status(stream.head) === '200').slice(0, 5)) stream.socket.destroy();
  let again = '';
  for (let i = 0; i < 50 && status(again) !== '200'; i++) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    const retry = await openStream(ids.at(-1)!);
    again = retry.head;
    t.teardown(() => retry.socket.destroy());
  }
  t.equal(status(again), '200', 'a closed stream makes room for a new one');
});
