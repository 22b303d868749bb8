import t from 'tap';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import https from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { fakeJpeg } from './fake-camera.ts';
import { failure, runAdapter } from './run-adapter.ts';

const run = promisify(execFile);

// Guards the https:// path: TLS is spoken, and a certificate nobody vouches for is refused with a clear CONNECT error.
t.test('https:// to a camera with a self-signed certificate is a CONNECT error naming the certificate problem', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'http-tls-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  await run('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1',
    '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')]);
  let handshakes = 0;
  const server = https.createServer({ key: await readFile(join(dir, 'key.pem')), cert: await readFile(join(dir, 'cert.pem')) }, (_request, response) => {
    response.writeHead(200, { 'Content-Type': 'image/jpeg' });
    response.end(fakeJpeg(1));
  });
  server.on('connection', () => handshakes++);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const port = (server.address() as { port: number }).port;
  const error = await failure(runAdapter(`https://127.0.0.1:${port}/video`));
  t.equal(error.code, 'CONNECT');
  t.match(error.message, /SELF_SIGNED|CERT/);
  t.equal(handshakes, 1, 'the adapter reached the TLS server');

  // TLSVerify no is how operators accept the self-signed certificates most cameras ship with.
  const trusting = runAdapter(`https://127.0.0.1:${port}/video`, { tlsVerify: false, snapshotIntervalMs: 50 });
  await trusting.sink.waitForFrames(2, 5000);
  trusting.sink.stop();
  t.equal(await trusting.outcome, 'resolved');
  t.same(trusting.sink.frames[0]?.data, fakeJpeg(1), 'frames over TLS with verification off');
});
