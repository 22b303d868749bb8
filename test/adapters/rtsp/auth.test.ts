import t from 'tap';
import { Authenticator, chooseChallenge, parseChallenge } from '../../../adapters/rtsp/auth.ts';

t.test('Digest with qop=auth reproduces the RFC 2617 section 3.5 example', async (t) => {
  const challenge = parseChallenge('Digest realm="testrealm@host.com", qop="auth,auth-int", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", opaque="5ccc069c403ebaf9f0171e9517f40e41"');
  t.ok(challenge);
  const authenticator = new Authenticator(challenge!, { username: 'Mufasa', password: 'Circle Of Life' }, () => '0a4f113b');
  const header = authenticator.authorization('GET', '/dir/index.html');
  t.match(header, /response="6629fae49393a05397450978507c4ef1"/);
  t.match(header, /nc=00000001/);
  t.match(authenticator.authorization('GET', '/dir/index.html'), /nc=00000002/, 'the nonce count goes up');
});

t.test('Digest without qop (what most cameras send) uses the RFC 2069 response', async (t) => {
  const challenge = parseChallenge('Digest realm="IP Camera", nonce="abc"');
  const header = new Authenticator(challenge!, { username: 'admin', password: 'pw' }).authorization('DESCRIBE', 'rtsp://cam/live');
  // md5(md5("admin:IP Camera:pw") + ":abc:" + md5("DESCRIBE:rtsp://cam/live")), computed independently with md5sum.
  t.match(header, /response="c3ce101f85b8221858de4957e3122892"/);
  t.notMatch(header, /qop|nc=/);
  t.match(header, /^Digest username="admin", realm="IP Camera", nonce="abc", uri="rtsp:\/\/cam\/live", response="/);
});

t.test('Basic encodes user:password; Digest is preferred when both are offered', async (t) => {
  t.equal(new Authenticator({ scheme: 'basic', realm: '' }, { username: 'a', password: 'b:c' }).authorization('OPTIONS', '*'), 'Basic YTpiOmM=');
  t.equal(chooseChallenge(['Basic realm="x"', 'Digest realm="x", nonce="n"'])?.scheme, 'digest');
  t.equal(chooseChallenge(['Basic realm="x"'])?.scheme, 'basic');
});

t.test('challenges the client cannot answer are ignored', async (t) => {
  for (const header of ['Negotiate abc', 'Digest realm="x"', 'Digest realm="x", nonce="n", algorithm=SHA-256', 'Digest realm="x", nonce="n", qop="auth-int"', '', '"']) {
    t.equal(parseChallenge(header), undefined, header);
  }
});
