import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:https';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import { promisify } from 'node:util';
import t from 'tap';
import { openViewer, waitFor } from '../../helpers/probe.ts';
import { unusedPort } from '../../helpers/ports.ts';
import { get } from '../../helpers/request.ts';
import { startTestRelay, syntheticConfig } from '../../helpers/relay.ts';
import { TlsSetupError } from '../../../relay/http/tls.ts';
import { startIdleFlood } from '../../helpers/idle-flood.ts';

const run = promisify(execFile);
const dir = await mkdtemp(join(tmpdir(), 'relay-tls-'));
t.teardown(() => rm(dir, { recursive: true, force: true }));

/** A self-signed certificate for 127.0.0.1 made by openssl; returns its SHA-256 fingerprint as Node prints it. */
async function makeCertificate(name: string): Promise<string> {
  await run('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1', '-subj', `/CN=${name}`,
    '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', join(dir, `${name}.key`), '-out', join(dir, `${name}.pem`)]);
  const { stdout } = await run('openssl', ['x509', '-in', join(dir, `${name}.pem`), '-noout', '-fingerprint', '-sha256']);
  return stdout.trim().split('=')[1]!;
}

/** The certificate fingerprint and status of one fresh HTTPS request. */
function httpsGet(port: number, path: string): Promise<{ status: number; fingerprint: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, rejectUnauthorized: false, agent: false }, (response) => {
      const fingerprint = (response.socket as TLSSocket).getPeerCertificate().fingerprint256;
      response.resume();
      response.on('end', () => resolve({ status: response.statusCode ?? 0, fingerprint }));
    });
    req.on('error', reject);
    req.end();
  });
}

const first = await makeCertificate('first');
const second = await makeCertificate('second');
await writeFile(join(dir, 'cert.pem'), await readFile(join(dir, 'first.pem')));
await writeFile(join(dir, 'key.pem'), await readFile(join(dir, 'first.key')));
const httpsPort = await unusedPort();
const tlsConfig = `HTTPSPort ${httpsPort}\nSSLCertificateFile ${dir}/cert.pem\nSSLCertificateKeyFile ${dir}/key.pem\n`;

t.test('HTTPS serves the same relay; SIGHUP reloads the certificate without dropping plain-port viewers', async (t) => {
  const relay = await startTestRelay(tlsConfig + syntheticConfig({ rate: 10 }));
  t.teardown(() => relay.stop());
  t.equal(relay.httpsPort, httpsPort);
  const before = await httpsGet(httpsPort, '/stat.json');
  t.same(before, { status: 200, fingerprint: first });
  const viewer = await openViewer(`${relay.baseUrl}/test.flv`);
  t.teardown(() => viewer.close());
  await waitFor(() => viewer.bytes > 10_000, 15_000, 'the plain viewer receives video');

  await writeFile(join(dir, 'cert.pem'), await readFile(join(dir, 'second.pem')));
  await writeFile(join(dir, 'key.pem'), await readFile(join(dir, 'second.key')));
  await relay.reload(); // what SIGHUP calls
  t.same(await httpsGet(httpsPort, '/stat.json'), { status: 200, fingerprint: second }, 'new connections get the new certificate');
  const bytes = viewer.bytes;
  await waitFor(() => viewer.bytes > bytes + 10_000, 10_000, 'the plain viewer keeps receiving');
  t.notOk(viewer.response.destroyed, 'the plain viewer was not dropped');

  await writeFile(join(dir, 'cert.pem'), '-----BEGIN CERTIFICATE-----\ngarbage\n');
  await relay.reload();
  t.same(await httpsGet(httpsPort, '/stat.json'), { status: 200, fingerprint: second }, 'a broken file keeps the previous certificate');
  t.ok(relay.logs.some((line) => /error.*TLS certificate not reloaded, keeping the previous one/.test(line)), 'and says so in the log');
  t.notOk(relay.logs.some((line) => /BEGIN|PRIVATE/.test(line)), 'no PEM in the log');

  await writeFile(join(dir, 'cert.pem'), await readFile(join(dir, 'second.pem')));
  await writeFile(relay.configFile, `RedirectToHTTPS yes\n${await readFile(relay.configFile, 'utf8')}`);
  await relay.reload();
  const redirected = await get(`${relay.baseUrl}/test.jpg?x=1`, { headers: { host: `127.0.0.1:${relay.port}` } });
  t.equal(redirected.status, 308);
  t.equal(redirected.headers.location, `https://127.0.0.1:${httpsPort}/test.jpg?x=1`);
  t.equal((await httpsGet(httpsPort, '/test.jpg')).status, 200, 'HTTPS itself is not redirected');
});

t.test('a key that does not match its certificate stops startup with a clear error', async (t) => {
  await writeFile(join(dir, 'cert.pem'), await readFile(join(dir, 'first.pem')));
  await writeFile(join(dir, 'key.pem'), await readFile(join(dir, 'second.key')));
  const key = await readFile(join(dir, 'second.key'), 'utf8');
  const error = await startTestRelay(tlsConfig + syntheticConfig()).then(
    async (relay) => {
      await relay.stop();
      return undefined;
    },
    (caught: unknown) => caught,
  );
  t.type(error, TlsSetupError);
  t.match((error as Error).message, /SSLCertificateFile\/SSLCertificateKeyFile are not a usable pair/);
  t.notOk((error as Error).message.includes(key.split('\n')[1]!), 'no key material in the message');
});

t.test('HTTPS connections count against MaxClientsPerIP from the TCP accept, and a handshake is bounded in time', async (t) => {
  // Guards the uncounted-handshake bug: HTTPS connections were counted only once their handshake finished, so one
  // address held thousands of connections that never started one.
  await writeFile(join(dir, 'cert.pem'), await readFile(join(dir, 'first.pem')));
  await writeFile(join(dir, 'key.pem'), await readFile(join(dir, 'first.key')));
  const relay = await startTestRelay(`${tlsConfig}MaxClientsPerIP 20\nRequestHeaderTimeout 2\n${syntheticConfig({ rate: 10 })}`);
  t.teardown(() => relay.stop());
  const limits = relay.relay.access.connectionLimits[1]!;
  const flood = startIdleFlood(httpsPort, 200, ['127.0.0.3'], { lineEveryMs: 0 });
  t.teardown(flood.stop);
  await flood.opened;
  await waitFor(() => limits.counters.refusedPerIp >= 180, 5_000, '180 connections past MaxClientsPerIP refused');
  t.ok(limits.connectionsFrom('127.0.0.3') <= 20, `${limits.connectionsFrom('127.0.0.3')} connections held by the address (MaxClientsPerIP 20)`);
  t.same(await httpsGet(httpsPort, '/stat.json'), { status: 200, fingerprint: first }, 'another address still gets in over HTTPS');

  // A handshake sent one byte at a time is closed at the deadline all the same.
  const started = Date.now();
  const closedAfter = await new Promise<number>((resolve) => {
    const socket = connect({ host: '127.0.0.1', port: httpsPort, localAddress: '127.0.0.4' });
    const record = Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00, ...new Array<number>(512).fill(0x01)]);
    let sent = 0;
    const trickle = setInterval(() => socket.writable && sent < record.length && socket.write(record.subarray(sent, ++sent)), 200);
    socket.on('error', () => {});
    socket.on('close', () => {
      clearInterval(trickle);
      resolve(Date.now() - started);
    });
    setTimeout(() => socket.destroy(), 15_000).unref();
  });
  t.ok(closedAfter < 4_000, `a trickled handshake was closed after ${closedAfter} ms (RequestHeaderTimeout 2 s)`);
});
