import { connect } from 'node:net';
import t from 'tap';
import { prng } from '../helpers/prng.ts';
import { fetchBytes } from '../helpers/probe.ts';
import { startTestRelay } from '../helpers/relay.ts';

const relay = await startTestRelay(`<Camera test>\n Source testsrc://?size=160x120&rate=5\n</Camera>\n<Stream test.jpg>\n Feed test\n</Stream>\n`);
t.teardown(() => relay.stop());

/** Sends raw bytes and resolves with everything the relay answers before it closes (or `timeoutMs` passes). */
function raw(bytes: Buffer | string, timeoutMs = 3000): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect(relay.port, '127.0.0.1');
    let answer = '';
    const timer = setTimeout(() => socket.destroy(), timeoutMs);
    socket.on('data', (chunk: Buffer) => (answer += chunk.toString('latin1')));
    socket.on('error', () => {});
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(answer);
    });
    socket.end(bytes);
  });
}

t.test('a garbage request line gets 400 and a closed connection', async (t) => {
  t.match(await raw('\x16\x03\x01\x02\x00 garbage\r\n\r\n'), /^HTTP\/1\.1 400 Bad Request\r\n/);
  t.match(await raw('GET /test.jpg HTTP/9.9 extra\r\n\r\n'), /^HTTP\/1\.1 400 /);
});

t.test('oversized headers get 431, and the relay keeps serving', async (t) => {
  t.match(await raw(`GET /test.jpg HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`), /^HTTP\/1\.1 431 /);
  t.equal((await fetchBytes(`${relay.baseUrl}/stat.json`)).status, 200);
});

t.test('hostile paths: NUL, encoded traversal, very long, odd methods', async (t) => {
  t.match(await raw('GET /test%00.jpg HTTP/1.1\r\nHost: x\r\n\r\n'), /^HTTP\/1\.1 404 /);
  t.match(await raw('GET /..%2f..%2fetc%2fpasswd HTTP/1.1\r\nHost: x\r\n\r\n'), /^HTTP\/1\.1 404 /);
  t.match(await raw(`GET /${'x'.repeat(4000)} HTTP/1.1\r\nHost: x\r\n\r\n`), /^HTTP\/1\.1 400 /);
  t.match(await raw('DELETE /test.jpg HTTP/1.1\r\nHost: x\r\n\r\n'), /^HTTP\/1\.1 405 /);
  t.match(await raw('GET /test/seg000001.ts/../../x HTTP/1.1\r\nHost: x\r\n\r\n'), /^HTTP\/1\.1 404 /);
});

t.test('fuzz: 2,000 mutated requests never take the relay down', async (t) => {
  const random = prng(0xbad);
  const base = Buffer.from('GET /test.jpg HTTP/1.1\r\nHost: 127.0.0.1\r\nRange: bytes=0-\r\n\r\n');
  const statuses = new Map<string, number>();
  for (let round = 0; round < 40; round++) {
    const batch = Array.from({ length: 50 }, () => {
      const bytes = Buffer.from(base);
      for (let e = 0; e < 1 + Math.floor(random() * 4); e++) bytes[Math.floor(random() * bytes.length)] = Math.floor(random() * 256);
      return raw(bytes, 1500);
    });
    for (const answer of await Promise.all(batch)) {
      const status = /^HTTP\/1\.1 (\d{3})/.exec(answer)?.[1] ?? 'none';
      statuses.set(status, (statuses.get(status) ?? 0) + 1);
    }
  }
  t.notOk(statuses.has('500'), `no internal errors (${JSON.stringify(Object.fromEntries(statuses))})`);
  t.ok((statuses.get('400') ?? 0) > 0, 'malformed ones get 400');
  const after = await fetchBytes(`${relay.baseUrl}/test.jpg`);
  t.equal(after.status, 200, 'still serving');
  t.notOk(relay.logs.some((line) => / error /.test(line)), 'nothing logged as an error');
});
