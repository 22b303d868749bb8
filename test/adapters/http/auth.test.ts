import t from 'tap';
import { DigestSession, UnsupportedDigestError, basicAuthorization, parseChallenges } from '../../../adapters/http/auth.ts';
import { livescopeError } from '../../../adapters/http/livescope.ts';

const field = (header: string, name: string): string | undefined => new RegExp(`(?:^Digest |, )${name}="?([^",]*)"?`).exec(header)?.[1];

t.test('RFC 2617 section 3.5 example: MD5, qop=auth', async (t) => {
  const { digest } = parseChallenges('Digest realm="testrealm@host.com", qop="auth,auth-int", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", opaque="5ccc069c403ebaf9f0171e9517f40e41"');
  t.ok(digest);
  const header = new DigestSession('Mufasa', 'Circle Of Life', digest!, () => '0a4f113b').authorization('GET', '/dir/index.html');
  t.equal(field(header, 'response'), '6629fae49393a05397450978507c4ef1');
  t.equal(field(header, 'nc'), '00000001');
  t.equal(field(header, 'qop'), 'auth');
  t.equal(field(header, 'opaque'), '5ccc069c403ebaf9f0171e9517f40e41');
  t.equal(field(header, 'uri'), '/dir/index.html');
});

t.test('RFC 7616 section 3.9.1 examples: MD5 and SHA-256', async (t) => {
  const challenge = (algorithm: string): string => `Digest realm="http-auth@example.org", qop="auth, auth-int", algorithm=${algorithm}, `
    + 'nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"';
  const cnonce = (): string => 'f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ';
  const md5 = new DigestSession('Mufasa', 'Circle of Life', parseChallenges(challenge('MD5')).digest!, cnonce);
  t.equal(field(md5.authorization('GET', '/dir/index.html'), 'response'), '8ca523f5e9506fed4657c9700eebdbec');
  const sha = new DigestSession('Mufasa', 'Circle of Life', parseChallenges(challenge('SHA-256')).digest!, cnonce);
  t.equal(field(sha.authorization('GET', '/dir/index.html'), 'response'), '753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1');
});

t.test('the nonce count goes up with each request', async (t) => {
  const session = new DigestSession('u', 'p', parseChallenges('Digest realm="r", nonce="n", qop=auth').digest!);
  t.same([1, 2, 3].map(() => field(session.authorization('GET', '/'), 'nc')), ['00000001', '00000002', '00000003']);
});

t.test('an RFC 2069 challenge (no qop) is answered without nc and cnonce', async (t) => {
  const header = new DigestSession('u', 'p', parseChallenges('Digest realm="r", nonce="n"').digest!).authorization('GET', '/a');
  t.equal(field(header, 'nc'), undefined);
  t.match(header, /response="[0-9a-f]{32}"/);
});

t.test('challenges: Basic, Digest, both, several headers, quoted commas and escapes', async (t) => {
  t.same(parseChallenges('Basic realm="cam"'), { basic: true, digest: undefined });
  const both = parseChallenges(['Basic realm="a, b"', 'Digest realm="x\\"y", nonce="abc", stale=TRUE, qop="auth"']);
  t.equal(both.basic, true);
  t.equal(both.digest?.realm, 'x"y');
  t.equal(both.digest?.nonce, 'abc');
  t.equal(both.digest?.stale, true);
  t.same(both.digest?.qop, ['auth']);
  t.same(parseChallenges('Digest realm="no nonce"'), { basic: false, digest: undefined });
  t.same(parseChallenges(undefined), { basic: false, digest: undefined });
});

t.test('Digest with only auth-int or an unknown algorithm is refused, not answered wrongly', async (t) => {
  t.throws(() => new DigestSession('u', 'p', parseChallenges('Digest realm="r", nonce="n", qop="auth-int"').digest!), UnsupportedDigestError);
  t.throws(() => new DigestSession('u', 'p', parseChallenges('Digest realm="r", nonce="n", algorithm=SHA-512-256').digest!), UnsupportedDigestError);
});

t.test('Basic authorization header', async (t) => {
  t.equal(basicAuthorization('Aladdin', 'open sesame'), 'Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==');
});

t.test('Livescope-Status: 0 is success, anything else an error with a safe message', async (t) => {
  t.equal(livescopeError({ 'livescope-status': '0' }), undefined);
  t.equal(livescopeError({}), undefined);
  const busy = livescopeError({ 'livescope-status': '503 too many clients' });
  t.equal(busy?.code, 'UPSTREAM_STATUS');
  t.equal(busy?.message, 'Livescope 503 too many clients');
  t.equal(livescopeError({ 'livescope-status': '401 unauthorized' })?.code, 'AUTH');
  t.equal(livescopeError({ 'livescope-status': `garbage\u0001${'x'.repeat(500)}` })?.message.length, 'Livescope error '.length + 80);
});
