import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { rejectsConfig } from '../helpers/config-rejects.ts';
import { parseConfig } from '../../conf/parse.ts';
import { hashPassword } from '../../lib/password.ts';

const schemes = ['testsrc'];
const parse = (text: string) => parseConfig(text, 'relay.conf', { schemes });
const camera = '<Camera cam>\n  Source testsrc://\n</Camera>\n';
const stream = (extra = '') => `<Stream live.flv>\n  Feed cam\n${extra}</Stream>\n`;
const SECRET = 'x'.repeat(40);
const hash = await hashPassword('pw', 1024);

function rejects(t: Test, text: string, expected: string): string[] {
  return rejectsConfig(t, text, expected, schemes);
}

t.test('everything is open and plain by default', async (t) => {
  const { security, streams } = parse(camera + stream()).config;
  t.same(security.adminUsers, []);
  t.same(security.adminTokens, []);
  t.equal(security.metricsAuth, true);
  t.equal(security.defaultAccess, 'public');
  t.equal(security.httpsPort, 0);
  t.equal(security.maxClientsPerIp, 0);
  t.equal(security.maxUnauthenticatedConnections, 1000);
  t.equal(security.requestHeaderTimeoutMs, 10_000);
  t.same(security.trustProxy, []);
  t.equal(streams[0]!.access, 'public');
});

t.test('users, tokens, access and proxies parse; repeated lines add up', async (t) => {
  const { security, streams } = parse(`AdminUser alice ${hash}\nAdminUser bob ${hash}\nAdminToken ${hash}\nViewerTokenSecret ${SECRET}
DefaultAccess token\nTrustProxy 10.0.0.1 ::1\nTrustProxy 10.0.0.2\nMetricsAuth no\n${camera}${stream()}<Stream open.flv>\n Feed cam\n Access public\n</Stream>\n`).config;
  t.same(security.adminUsers.map((user) => user.name), ['alice', 'bob']);
  t.equal(security.adminTokens.length, 1);
  t.same(security.trustProxy, ['10.0.0.1', '::1', '10.0.0.2']);
  t.equal(security.metricsAuth, false);
  t.same(streams.map((s) => s.access), ['token', 'public'], 'DefaultAccess, and a stream\'s own Access');
});

t.test('bad values name file:line and the directive, and never echo a password or secret', async (t) => {
  const leaked = (messages: string[], secret: string) => t.notOk(messages.some((m) => m.includes(secret)), `"${secret}" not echoed`);
  leaked(rejects(t, 'AdminUser admin hunter2-plain\n', 'relay.conf:1: AdminUser: the second value is not a hash made by `npx relay --hash-password` (plain-text passwords are not accepted)'), 'hunter2-plain');
  rejects(t, 'AdminUser admin\n', 'relay.conf:1: AdminUser: takes a name and a hash (made by `npx relay --hash-password`), got 1 values');
  rejects(t, `AdminUser "ad:min" ${hash}\n`, 'relay.conf:1: AdminUser: the name uses letters, digits, ".", "_", "@" and "-" (at most 64)');
  rejects(t, `AdminUser a ${hash}\nAdminUser a ${hash}\n`, 'relay.conf:2: AdminUser: the user a is given twice');
  leaked(rejects(t, 'AdminToken s3cr3t-token\n', 'relay.conf:1: AdminToken: is not a hash made by `npx relay --hash-password` (plain-text passwords are not accepted)'), 's3cr3t-token');
  leaked(rejects(t, 'ViewerTokenSecret short-secret\n', 'relay.conf:1: ViewerTokenSecret: is 12 characters; use at least 32 random ones (e.g. openssl rand -hex 32)'), 'short-secret');
  rejects(t, `${camera}${stream('  Access token\n')}`, 'relay.conf:6: Access: token needs ViewerTokenSecret in the global section');
  rejects(t, `${camera}${stream('  Access private\n')}`, 'relay.conf:6: Access: "private" is not one of public, token');
  rejects(t, 'DefaultAccess token\n', 'relay.conf:1: DefaultAccess: token needs ViewerTokenSecret');
  rejects(t, 'MetricsAuth maybe\n', 'relay.conf:1: MetricsAuth: "maybe" is not yes or no');
  rejects(t, 'HTTPSPort 8443\n', 'relay.conf:1: HTTPSPort: needs SSLCertificateFile');
  rejects(t, 'HTTPSPort 70000\n', 'relay.conf:1: HTTPSPort: 70000 is out of range (0 to 65535)');
  rejects(t, 'HTTPSPort 8443\nSSLCertificateFile /nonexistent/cert.pem\nSSLCertificateKeyFile /nonexistent/key.pem\n', 'relay.conf:2: SSLCertificateFile: /nonexistent/cert.pem does not exist');
  rejects(t, 'RedirectToHTTPS yes\n', 'relay.conf:1: RedirectToHTTPS: needs HTTPSPort');
  rejects(t, 'MaxClientsPerIP -1\n', 'relay.conf:1: MaxClientsPerIP: -1 is out of range (0 to 1000000)');
  rejects(t, 'MaxUnauthenticatedConnections 0\n', 'relay.conf:1: MaxUnauthenticatedConnections: 0 is out of range (1 to 1000000)');
  rejects(t, 'RequestHeaderTimeout 0.1\n', 'relay.conf:1: RequestHeaderTimeout: 0.1 is out of range (1 to 300)');
  rejects(t, 'TrustProxy 10.0.0.1 proxy.example\n', 'relay.conf:1: TrustProxy: "proxy.example" is not an IP address');
  rejects(t, 'TrustProxy\n', 'relay.conf:1: TrustProxy: takes one or more IP addresses');
  rejects(t, `${camera}<Stream live.flv>\n Feed cam\n AdminUser a ${hash}\n</Stream>\n`, 'relay.conf:6: AdminUser: not allowed in a <Stream> block; it belongs in the global section');
});

t.test('HTTPS with existing certificate files parses', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'relay-conf-tls-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  await writeFile(join(dir, 'c.pem'), 'x');
  await writeFile(join(dir, 'k.pem'), 'x');
  const { security } = parse(`HTTPSPort 8443\nSSLCertificateFile ${dir}/c.pem\nSSLCertificateKeyFile ${dir}/k.pem\nRedirectToHTTPS yes\n`).config;
  t.equal(security.httpsPort, 8443);
  t.equal(security.redirectToHttps, true);
});
