import { connect, type Socket } from 'node:net';
import t from 'tap';
import { waitFor } from '../../helpers/probe.ts';
import { get } from '../../helpers/request.ts';
import { startTestRelay, syntheticConfig } from '../../helpers/relay.ts';
import { request } from 'node:http';
import { spawn } from 'node:child_process';

/**
 * The attacker, a separate process as a real one would be (it must not share the relay's event loop): opens COUNT
 * sockets to PORT from 8 addresses, sends half a request on each and goes quiet (every other socket trickles a header
 * byte every 300 ms), never reads, prints "opened N" when every socket is open (N: sockets the relay had closed by then
 * after holding them, whose places later sockets could take), and exits when stdin closes.
 */
const ATTACKER = `
const net = require('node:net');
const [port, count] = process.argv.slice(1).map(Number);
let opened = 0;
let freed = 0;
for (let i = 0; i < count; i++) {
  const socket = net.connect({ host: '127.0.0.1', port, localAddress: '127.0.0.' + (100 + (i % 8)) });
  socket.on('error', () => {});
  socket.on('connect', () => {
    socket.write('GET /test.flv HTTP/1.1\\r\\nHost: 127.0.0.1\\r\\n');
    if (i % 2) { const trickle = setInterval(() => socket.destroyed ? clearInterval(trickle) : socket.write('X'), 300); }
  });
  const counted = () => { if (++opened === count) console.log('opened ' + freed); };
  socket.once('connect', () => {
    const since = Date.now();
    // Closed after it was held (a refusal closes at once): its place could go to a later socket.
    socket.once('close', () => { if (opened < count && Date.now() - since >= 1500) freed++; });
  });
  socket.once('connect', counted);
  socket.once('error', counted);
}
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
`;

const ATTACKERS = 8;
const SOCKETS = 2000;
const relay = await startTestRelay(`MaxClientsPerIP 100\nMaxUnauthenticatedConnections 1000\nRequestHeaderTimeout 2\n${syntheticConfig({ rate: 10 })}`);
t.teardown(() => relay.stop());
const limits = relay.relay.access.connectionLimits[0]!;

/** A live FLV viewer that records when each chunk arrived. */
function watch(path: string): Promise<{ arrivals: number[]; close: () => void }> {
  return new Promise((resolve, reject) => {
    const req = request(`${relay.baseUrl}${path}`, { agent: false }, (response) => {
      const arrivals: number[] = [];
      response.on('data', () => arrivals.push(Date.now()));
      response.on('error', () => {});
      resolve({ arrivals, close: () => req.destroy() });
    });
    req.on('error', reject);
    req.end();
  });
}

const largestGap = (arrivals: number[], from: number, to: number): number => {
  const inside = arrivals.filter((at) => at >= from && at <= to);
  let gap = 0;
  for (let i = 1; i < inside.length; i++) gap = Math.max(gap, inside[i]! - inside[i - 1]!);
  return gap;
};

/** Open sockets of the relay's HTTP server, as the server counts them. */
const openConnections = (): Promise<number> => new Promise((resolve) => relay.server.getConnections((_error, count) => resolve(count)));

t.test('2,000 slowloris connections: a viewer keeps its frames, sockets stay bounded, the half-sent requests are closed', async (t) => {
  // Guards the half-closed socket bug: a timed-out request was answered 408 and ended, but a client that never reads
  // never closed its side, so the relay kept every such socket for ever. These attackers never read.
  const viewer = await watch('/test.flv');
  t.teardown(viewer.close);
  await waitFor(() => viewer.arrivals.length > 20, 15_000, 'the viewer receives frames');

  const attackStart = Date.now();
  let peakOpen = 0;
  let peakUnauthenticated = 0;
  const sampler = setInterval(() => {
    peakUnauthenticated = Math.max(peakUnauthenticated, limits.unauthenticated);
    void openConnections().then((count) => (peakOpen = Math.max(peakOpen, count)));
  }, 20);
  t.teardown(() => clearInterval(sampler));
  const attacker = spawn(process.execPath, ['-e', ATTACKER, String(relay.port), String(SOCKETS)], { stdio: ['pipe', 'pipe', 'inherit'] });
  t.teardown(() => attacker.stdin.end());
  const opened = new Promise<number>((resolve) => attacker.stdout.on('data', (chunk) => {
    const freed = /opened (\d+)/.exec(String(chunk))?.[1];
    if (freed !== undefined) resolve(Number(freed));
  }));

  // A viewer arriving in the middle of the attack still gets in: the attackers hit their per-address limit first.
  await new Promise((resolve) => setTimeout(resolve, 1000));
  const late = await get(`${relay.baseUrl}/test.flv`, { maxBytes: 3 });
  t.equal(late.status, 200, 'a new viewer during the attack');

  const freedBeforeLast = await opened;
  await waitFor(async () => (await openConnections()) <= 1, 15_000, 'the relay to close every slowloris socket');
  const attackEnd = Date.now();
  t.ok(attackEnd - attackStart < 10_000, `the relay closed all of them after ${attackEnd - attackStart} ms (RequestHeaderTimeout 2 s)`);
  t.ok(peakOpen <= 8 * 100 + 3, `at most ${peakOpen} sockets open at once`);
  const gap = largestGap(viewer.arrivals, attackStart, attackEnd);
  t.ok(gap < 500, `largest gap between the viewer's chunks during the attack: ${gap} ms`);
  // The watching viewer's own connection may be counted while its request is read: one more than the attackers' share.
  t.ok(peakUnauthenticated <= 8 * 100 + 1, `at most ${peakUnauthenticated} unauthenticated connections held (8 addresses x MaxClientsPerIP 100, plus the viewer)`);
  // On a slow machine the first held sockets time out while the last are still opening, and later ones take their places.
  t.ok(limits.counters.refusedPerIp >= SOCKETS - 8 * 100 - freedBeforeLast,
    `${limits.counters.refusedPerIp} refused by MaxClientsPerIP (${freedBeforeLast} places freed while the attacker was still opening)`);
  await waitFor(() => limits.unauthenticated === 0, 5_000, 'no unauthenticated connection left');
  const stillWatching = viewer.arrivals.length;
  await waitFor(() => viewer.arrivals.length > stillWatching + 5, 5_000, 'the first viewer still receives');
});

t.test('MaxUnauthenticatedConnections caps what many addresses can hold together, closing the oldest idle ones', async (t) => {
  const sockets: Socket[] = [];
  t.teardown(() => sockets.forEach((socket) => socket.destroy()));
  const before = limits.counters.evictedIdle;
  // 1,200 addresses, one socket each: the per-address limits never apply, the global cap does.
  for (let i = 0; i < 1200; i++) {
    const socket = connect({ host: '127.0.0.1', port: relay.port, localAddress: `127.0.${10 + Math.floor(i / 200)}.${(i % 200) + 2}` });
    socket.on('error', () => {});
    socket.on('connect', () => socket.write('GET / HTTP/1.1\r\n'));
    sockets.push(socket);
    if (i % 100 === 99) await new Promise((resolve) => setImmediate(resolve));
  }
  await waitFor(() => limits.counters.evictedIdle - before >= 200, 10_000, '200 connections over the cap closing older idle ones');
  t.ok(limits.unauthenticated <= 1000, `${limits.unauthenticated} held`);
  const closedFirst = sockets.slice(0, 200).filter((socket) => socket.destroyed || socket.readableEnded).length;
  t.ok(closedFirst >= 150, `${closedFirst} of the 200 oldest sockets were the ones closed`);
  const answered = await get(`${relay.baseUrl}/stat.json`);
  t.equal(answered.status, 200, 'while the cap is full, a new connection still gets in');
  sockets.forEach((socket) => socket.destroy());
  await waitFor(() => limits.unauthenticated === 0, 5_000, 'the held sockets to go');
  const metrics = (await get(`${relay.baseUrl}/metrics`)).body.toString();
  t.match(metrics, /relay_connections_closed_total\{reason="evicted"\} [1-9]/, 'counted on /metrics');
});
