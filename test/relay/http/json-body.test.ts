import { createServer, type Server } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import Koa from 'koa';
import t from 'tap';
import { readJsonBody, readJsonObject, type BodyError } from '../../../relay/http/json-body.ts';

const app = new Koa();
app.use(async (ctx) => {
  try {
    ctx.body = { got: await readJsonBody(ctx, 1024, 5) };
  } catch (error) {
    const { status = 500, message } = error as { status?: number; message: string };
    ctx.status = status;
    ctx.body = { error: message };
  }
});
const server: Server = createServer(app.callback());
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())));

const post = async (body: string, type = 'application/json') => {
  const response = await fetch(base, { method: 'POST', headers: { 'content-type': type }, body });
  return { status: response.status, json: (await response.json()) as { got?: unknown; error?: string } };
};

/** Everything the server sends on a raw socket until it closes. */
const answerOf = (socket: Socket) => new Promise<string>((resolve) => {
  let text = '';
  socket.on('data', (chunk) => (text += String(chunk)));
  socket.on('close', () => resolve(text));
  socket.on('error', () => resolve(text));
});

t.test('a small JSON body is read', async (t) => {
  t.same(await post('{"camera":"cam","on":true}'), { status: 200, json: { got: { camera: 'cam', on: true } } });
  t.same((await post('{"text":"[[[[[[[[ not nesting ]"}')).json.got, { text: '[[[[[[[[ not nesting ]' }, 'brackets in strings are not nesting');
});

t.test('oversized, deep, malformed, empty and mistyped bodies are refused with a clear status', async (t) => {
  t.same(await post(JSON.stringify({ big: 'x'.repeat(2000) })), { status: 413, json: { error: 'the body is limited to 1024 bytes' } });
  t.same(await post('[[[[[[1]]]]]]'), { status: 400, json: { error: 'the JSON nests deeper than 5 levels' } });
  t.same(await post('{"a":'), { status: 400, json: { error: 'the body is not valid JSON' } });
  t.same(await post('{"a":1}garbage'), { status: 400, json: { error: 'the body is not valid JSON' } });
  t.same(await post(''), { status: 400, json: { error: 'the body is empty' } });
  t.same(await post('{"a":1}', 'text/plain'), { status: 415, json: { error: 'the body must be application/json' } });
});

t.test('a chunked body that keeps growing is cut off at the limit, not buffered', async (t) => {
  // No Content-Length: the limit must be enforced while reading.
  const socket = connect((server.address() as AddressInfo).port, '127.0.0.1');
  const answer = answerOf(socket);
  socket.write('POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n');
  const chunk = `400\r\n${'['.repeat(1024)}\r\n`;
  for (let i = 0; i < 64 && !socket.destroyed; i++) {
    socket.write(chunk);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  setTimeout(() => socket.destroy(), 2000).unref();
  t.match(await answer, /^HTTP\/1\.1 413 /, '413 after the first KiB, the rest is never read');
});

t.test('the JSON-object reader of the plain APIs takes objects only, within the same limits', async (t) => {
  const plain = createServer((request, response) => {
    readJsonObject(request, 1024, 300, 5).then(
      (value) => response.end(JSON.stringify({ got: value })),
      (error: BodyError) => response.writeHead(error.status).end(JSON.stringify({ error: error.message, problem: error.problem })),
    );
  });
  await new Promise<void>((resolve) => plain.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => plain.close(() => resolve())));
  const url = `http://127.0.0.1:${(plain.address() as AddressInfo).port}`;
  const send = async (body: string) => {
    const response = await fetch(url, { method: 'POST', body });
    return { status: response.status, json: (await response.json()) as { got?: unknown; error?: string; problem?: string } };
  };
  t.same(await send('{"action":"x"}'), { status: 200, json: { got: { action: 'x' } } });
  t.same(await send('["x"]'), { status: 400, json: { error: 'the body must be a JSON object', problem: 'invalid' } });
  t.same(await send('null'), { status: 400, json: { error: 'the body must be a JSON object', problem: 'invalid' } });
  t.same(await send('{"a":[[[[[1]]]]]}'), { status: 400, json: { error: 'the JSON nests deeper than 5 levels', problem: 'invalid' } });
  t.same(await send('x'.repeat(2000)), { status: 413, json: { error: 'the body is limited to 1024 bytes', problem: 'too-large' } });
  // Headers, then silence: answered after the timeout, not held open.
  const socket = connect((plain.address() as AddressInfo).port, '127.0.0.1');
  const answer = answerOf(socket);
  socket.write('POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n{"a"');
  setTimeout(() => socket.destroy(), 5000).unref();
  t.match(await answer, /^HTTP\/1\.1 408 [^]*did not arrive within 0\.3 s/);
});
