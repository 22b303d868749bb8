import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import Router from '@koa/router';
import Koa from 'koa';
import t from 'tap';
import { parseConfig } from '../../../conf/parse.ts';
import { requireAdmin } from '../../../relay/auth/guard.ts';
import { AccessControl } from '../../../relay/auth/access.ts';
import { hashPassword } from '../../../lib/password.ts';
import { silentLogger } from '../../../lib/log.ts';
import { basic, get } from '../../helpers/request.ts';

// A surface outside the prefixes the guard knows, protected by one line where its route registers.
const { config } = parseConfig(`AdminUser admin ${await hashPassword('pw', 1024)}\n`, 'relay.conf', { schemes: [] });
const relay = { config, access: new AccessControl(() => config, silentLogger) };
const app = new Koa();
const router = new Router();
router.get('/reports', requireAdmin(relay), (ctx) => {
  ctx.body = 'the report';
});
app.use(router.routes());
const server = createServer(app.callback());
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())));
const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/reports`;

t.test('requireAdmin guards one route', async (t) => {
  const refused = await get(url);
  t.equal(refused.status, 401);
  t.match(String(refused.headers['www-authenticate']), /^Basic realm="relay admin"/);
  t.equal((await get(url, { headers: { authorization: basic('admin', 'nope') } })).status, 401);
  const allowed = await get(url, { headers: { authorization: basic('admin', 'pw') } });
  t.equal(allowed.status, 200);
  t.equal(allowed.body.toString(), 'the report');
});
