// Guards the idle-connection lock-out: idle connections from one address (or a few) filled MaxUnauthenticatedConnections and every newcomer, viewers and the operator alike, was reset.
import { connect } from 'node:net';
import t from 'tap';
import { hashPassword } from '../../../lib/password.ts';
import { signViewerToken } from '../../../relay/auth/viewer-token.ts';
import { firstFrameMs, loopbackAddresses, startIdleFlood } from '../../helpers/idle-flood.ts';
import { waitFor } from '../../helpers/probe.ts';
import { basic, get } from '../../helpers/request.ts';
import { startTestRelay, syntheticConfig } from '../../helpers/relay.ts';

const SECRET = 'idle-lockout-viewer-token-secret-0123456789';
const CAP = 300;
const relay = await startTestRelay(
  `AdminUser admin ${await hashPassword('operator-pw', 1024)}\nViewerTokenSecret ${SECRET}\nDefaultAccess token\n` +
    `MaxUnauthenticatedConnections ${CAP}\nRequestHeaderTimeout 20\n${syntheticConfig({ rate: 10 })}`,
);
t.teardown(() => relay.stop());
const limits = relay.relay.access.connectionLimits[0]!;
const flvUrl = `${relay.baseUrl}/test.flv?token=${signViewerToken(SECRET, 'test.flv', Math.floor(Date.now() / 1000) + 3600)}`;

t.test('600 idle connections from one address and 600 over 50 addresses lock out neither a new viewer nor the operator', async (t) => {
  await firstFrameMs(flvUrl, '127.0.0.1', 20_000); // the encoder runs before the attack: what is timed below is admission
  // The attack as found: one address sends half a request, then a header line every 5 s; the others send nothing.
  const single = startIdleFlood(relay.port, 600, ['127.0.0.2'], { lineEveryMs: 5_000 });
  t.teardown(single.stop);
  const spread = startIdleFlood(relay.port, 600, loopbackAddresses(10, 50), { lineEveryMs: 0 });
  t.teardown(spread.stop);
  await Promise.all([single.opened, spread.opened]);
  await waitFor(() => limits.unauthenticated >= CAP, 10_000, 'the attack to fill MaxUnauthenticatedConnections');

  const frameMs = await firstFrameMs(flvUrl, '127.0.1.1');
  t.ok(frameMs < 1000, `a new viewer from another address got its first frame after ${Math.round(frameMs)} ms`);
  const operator = await get(`${relay.baseUrl}/stat.html`, { localAddress: '127.0.0.1', headers: { authorization: basic('admin', 'operator-pw') } });
  t.equal(operator.status, 200, `the operator reached /stat.html in ${operator.ms} ms`);
  t.ok(limits.unauthenticated <= CAP, `${limits.unauthenticated} unauthenticated connections held (cap ${CAP})`);
  const fromOne = limits.unauthenticatedFrom('127.0.0.2');
  t.ok(fromOne <= 100, `the single address holds ${fromOne} (MaxUnauthenticatedPerIP 100)`);
  t.ok(limits.counters.evictedIdle > 0, `${limits.counters.evictedIdle} idle connections closed to let newer ones in`);
  const metrics = await get(`${relay.baseUrl}/metrics`, { headers: { authorization: basic('admin', 'operator-pw') } });
  t.match(metrics.body.toString(), /relay_connections_closed_total\{reason="evicted"\} [1-9]/, 'evictions are counted on /metrics');
});

t.test('a connection that never sends a byte is closed RequestHeaderTimeout after it was accepted', async (t) => {
  // Node's own header timer starts with the first byte: a silent connection was held for ever.
  const quick = await startTestRelay(`RequestHeaderTimeout 1\n${syntheticConfig({ rate: 10 })}`);
  t.teardown(() => quick.stop());
  const started = Date.now();
  const closedAfter = await new Promise<number>((resolve) => {
    const socket = connect({ host: '127.0.0.1', port: quick.port });
    socket.on('error', () => {});
    socket.on('close', () => resolve(Date.now() - started));
    setTimeout(() => socket.destroy(), 8_000).unref();
  });
  t.ok(closedAfter >= 900 && closedAfter < 4_000, `the silent connection was closed by the relay after ${closedAfter} ms`);
  const quickLimits = quick.relay.access.connectionLimits[0]!;
  t.equal(quickLimits.counters.timedOut, 1, 'counted as closed for sending no request');
});
