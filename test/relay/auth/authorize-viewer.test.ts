import t from 'tap';
import { parseConfig } from '../../../conf/parse.ts';
import { AccessControl, authorizeViewer } from '../../../relay/auth/access.ts';
import { hashPassword } from '../../../lib/password.ts';
import { signViewerToken } from '../../../relay/auth/viewer-token.ts';
import { createLogger } from '../../../lib/log.ts';

const SECRET = 'rtsp-edge-secret-0123456789abcdefgh';
const logs: string[] = [];
const { config } = parseConfig(`ViewerTokenSecret ${SECRET}
AdminUser admin ${await hashPassword('admin-pw', 1024)}
<Camera cam>
  Source testsrc://
</Camera>
<Stream door.sdp>
  Format flv
  Feed cam
  Access token
</Stream>
<Stream open.sdp>
  Format flv
  Feed cam
</Stream>
`, 'relay.conf', { schemes: ['testsrc'] });
// What the RTSP server holds: the relay's config and its access control.
const relay = { config, access: new AccessControl(() => config, createLogger('relay', (line) => logs.push(line)).child('auth')) };
const soon = (): number => Math.floor(Date.now() / 1000) + 60;
const basic = (user: string, password: string): string => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

t.test('an edge without Koa authorises viewers by stream name, the way RTSP readers present tokens', async (t) => {
  const token = signViewerToken(SECRET, 'door.sdp', soon());
  const address = '192.0.2.1';
  t.match(await authorizeViewer(relay, 'door.sdp', { token, address }), { allowed: true, via: 'token' }, 'token in the URL query');
  t.match(await authorizeViewer(relay, 'door.sdp', { authorization: basic('any', token), address }), { allowed: true, via: 'token' }, 'token as the Basic password');
  t.match(await authorizeViewer(relay, 'door.sdp', { authorization: basic('admin', 'admin-pw'), address }), { allowed: true, via: 'admin' });
  t.match(await authorizeViewer(relay, 'door.sdp', { address }), { allowed: false, status: 403 });
  t.match(await authorizeViewer(relay, 'door.sdp', { authorization: 'Digest username="x", response="00"', address }), { allowed: false, status: 403 }, 'Digest carries no token');
  t.match(await authorizeViewer(relay, 'door.sdp', { token: signViewerToken(SECRET, 'open.sdp', soon()), address }), { allowed: false, status: 403 }, 'another stream\'s token');
  t.match(await authorizeViewer(relay, 'door.sdp', { token: signViewerToken(SECRET, 'door.sdp', soon() - 120), address }), { allowed: false, status: 410 });
  t.match(await authorizeViewer(relay, 'open.sdp', { address }), { allowed: true, via: 'public' });
  t.notOk(logs.some((line) => line.includes(token) || line.includes(SECRET)), 'no token or secret in the log');
});
