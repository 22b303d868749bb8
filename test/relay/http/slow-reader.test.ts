// Guards: a large response read slowly was cut: Node's keep-alive timer closed the socket 5 s after the body reached the kernel, while the reader was still taking it.
import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { keepAliveAfterLargeResponses } from '../../../relay/http/keep-alive.ts';
import t from 'tap';
import { slowRead } from '../../helpers/slow-reader.ts';
import { startTestRelayFor } from '../../helpers/relay.ts';
import { tempDir } from '../recording/fixtures.ts';

const { dir, cleanup } = await tempDir('relay-slow-reader-');
const file = randomBytes(2 ** 20);
await writeFile(`${dir}/big.ts`, file);
await writeFile(`${dir}/small.ts`, file.subarray(0, 4096));
const relay = await startTestRelayFor(t, `MediaPath ${dir}\n`, cleanup);
// A handler that writes its whole body at once, before any later request listener runs (the relay's own are async).
const plain = createServer((_req, res) => res.end(file));
plain.keepAliveTimeout = 5_000;
keepAliveAfterLargeResponses(plain);
await new Promise<void>((resolve) => plain.listen(0, '127.0.0.1', resolve));
t.teardown(() => {
  plain.closeAllConnections();
  plain.close();
});

t.test('a /vod/FILE download read slowly arrives whole, on a connection still open for the next request', async (t) => {
  const began = Date.now();
  const [read, small, synchronous] = await Promise.all([
    slowRead(relay.port, '/vod/big.ts'),
    slowRead(relay.port, '/vod/small.ts', { firstBytes: 1 }),
    slowRead((plain.address() as AddressInfo).port, '/'),
  ]);
  t.equal(read.status, 200);
  t.equal(read.contentLength, file.length);
  t.ok(read.body.equals(file), `all ${file.length} bytes, in ${Date.now() - began} ms`);
  t.match(read.second, /^HTTP\/1\.1 200/, 'the connection was kept alive for the next request');
  t.ok(small.body.equals(file.subarray(0, 4096)), 'a small file whole too');
  t.ok(synchronous.body.equals(file) && /^HTTP\/1\.1 200/.test(synchronous.second), 'a body written at once by its handler is counted as large too');
  t.equal(small.second, 'closed', 'after a small response the usual keep-alive timeout still closes an idle connection');
});
