import { createSocket } from 'node:dgram';
import { connect, type Socket } from 'node:net';
import t from 'tap';
import { startTestEncodedSource } from '../../helpers/encoded-source.ts';
import { waitFor } from '../../helpers/probe.ts';
import { h264RtpPayloader, jpegRtpPayloader } from '../../../relay/rtsp/rtp-payloaders.ts';
import { countingSource, LIMITS, playOverTcp, startJpegFeed, startServer, TestRtspClient } from './fixtures.ts';

const encoded = startTestEncodedSource({ size: '320x240', rate: 25, gop: 25 });
const video = countingSource(encoded.hub);
const server = await startServer({ sessionTimeoutMs: 2000, idleTimeoutMs: 1500 });
server.mount('cam.flv', h264RtpPayloader(video), LIMITS);
const url = `rtsp://127.0.0.1:${server.port}/cam.flv`;
t.teardown(async () => {
  await server.close();
  encoded.stop();
});

/** Writes raw bytes and collects everything the server sends until it closes the connection (or `ms` pass). */
function rawExchange(bytes: Buffer | string, ms = 5000): Promise<{ text: string; closed: boolean }> {
  return new Promise((resolve) => {
    const socket = connect(server.port, '127.0.0.1', () => socket.write(bytes));
    let text = '';
    socket.on('data', (chunk) => (text += chunk.toString('latin1')));
    socket.on('error', () => {});
    const timer = setTimeout(() => {
      socket.destroy();
      resolve({ text, closed: false });
    }, ms);
    socket.on('close', () => {
      clearTimeout(timer);
      resolve({ text, closed: true });
    });
  });
}

t.test('a header block over 16 KiB gets 400 and the connection closes', async (t) => {
  const { text, closed } = await rawExchange(`OPTIONS * RTSP/1.0\r\nCSeq: 1\r\nX-Long: ${'a'.repeat(20_000)}\r\n\r\n`);
  t.match(text, /^RTSP\/1\.0 400 Bad Request\r\n/);
  t.ok(closed);
});

t.test('more than 64 headers get 400 and the connection closes', async (t) => {
  const headers = Array.from({ length: 70 }, (_, index) => `X-H${index}: v`).join('\r\n');
  const { text, closed } = await rawExchange(`OPTIONS * RTSP/1.0\r\nCSeq: 1\r\n${headers}\r\n\r\n`);
  t.match(text, /^RTSP\/1\.0 400 Bad Request\r\n/);
  t.match(text, /more than 64 headers/);
  t.ok(closed);
});

t.test('a body over 64 KiB is refused before it is read', async (t) => {
  const { text, closed } = await rawExchange(`SET_PARAMETER ${url} RTSP/1.0\r\nCSeq: 1\r\nContent-Length: 10000000\r\n\r\n`);
  t.match(text, /^RTSP\/1\.0 400 Bad Request\r\n/);
  t.ok(closed);
});

t.test('a malformed request line gets 400; a missing CSeq gets 400 and the connection stays', async (t) => {
  const garbage = await rawExchange('HELLO\r\n\r\n');
  t.match(garbage.text, /^RTSP\/1\.0 400 /);
  t.ok(garbage.closed);
  const client = await TestRtspClient.connect(server.port);
  t.teardown(() => client.close());
  client.socket.write('OPTIONS * RTSP/1.0\r\n\r\n');
  t.equal((await client.nextReply()).status, 400);
  t.equal((await client.request('OPTIONS', '*')).status, 200, 'still served');
});

t.test('statuses: 501 unknown method, 405 known but not served, 404 unknown stream or track, 455 before SETUP, 454 wrong session, 461 transports', async (t) => {
  const client = await TestRtspClient.connect(server.port);
  t.teardown(() => client.close());
  t.equal((await client.request('BREW', url)).status, 501);
  t.equal((await client.request('ANNOUNCE', url)).status, 405);
  t.equal((await client.request('RECORD', url)).status, 405);
  t.equal((await client.request('DESCRIBE', `rtsp://127.0.0.1:${server.port}/nothing`)).status, 404);
  t.equal((await client.request('DESCRIBE', 'not-a-url')).status, 404);
  t.equal((await client.request('SETUP', `${url}/trackID=1`, { Transport: 'RTP/AVP/TCP;unicast;interleaved=0-1' })).status, 404, 'unknown track');
  t.equal((await client.request('SETUP', `${url}/../../etc/passwd`, { Transport: 'RTP/AVP/TCP;unicast' })).status, 404, 'path tricks');
  t.equal((await client.request('PLAY', url)).status, 455, 'PLAY before SETUP');
  t.equal((await client.request('PAUSE', url)).status, 455, 'PAUSE before SETUP');
  t.equal((await client.request('PLAY', url, { Session: 'deadbeefdeadbeef' })).status, 454, 'wrong session');
  t.equal((await client.request('TEARDOWN', url, { Session: 'x'.repeat(5000) })).status, 454);
  for (const transport of ['RTP/AVP;multicast', 'RTP/AVP;unicast', 'RTP/SAVP;unicast;client_port=5000-5001', 'RTP/AVP/TCP;unicast;interleaved=300-301', 'garbage', '']) {
    t.equal((await client.request('SETUP', `${url}/trackID=0`, { Transport: transport })).status, 461, `Transport: ${transport}`);
  }
  t.equal(server.readerCount(), 0, 'no session was left behind');
});

t.test('an expired session answers 454 and releases the encoder', async (t) => {
  const client = await TestRtspClient.connect(server.port);
  t.teardown(() => client.close());
  const setup = await client.request('SETUP', `${url}/trackID=0`, { Transport: 'RTP/AVP/TCP;unicast;interleaved=0-1' });
  const session = setup.headers.get('Session')!.split(';')[0]!;
  t.equal(video.holders, 1);
  await waitFor(() => server.sessions.size === 0, 6000, 'the session to time out');
  t.equal((await client.request('PLAY', url, { Session: session })).status, 454);
  t.equal(video.holders, 0);
});

t.test('pipelined requests are answered in order', async (t) => {
  const client = await TestRtspClient.connect(server.port);
  t.teardown(() => client.close());
  client.socket.write(['OPTIONS * RTSP/1.0\r\nCSeq: 1\r\n\r\n', `DESCRIBE ${url} RTSP/1.0\r\nCSeq: 2\r\n\r\n`, 'BREW * RTSP/1.0\r\nCSeq: 3\r\n\r\n', 'OPTIONS * RTSP/1.0\r\nCSeq: 4\r\n\r\n'].join(''));
  const replies = [await client.nextReply(), await client.nextReply(), await client.nextReply(), await client.nextReply()];
  t.same(replies.map((reply) => reply.headers.get('CSeq')), ['1', '2', '3', '4']);
  t.same(replies.map((reply) => reply.status), [200, 200, 501, 200]);
});

t.test('a client that pipelines requests and never reads the replies is disconnected, its backlog bounded', async (t) => {
  const socket = connect(server.port, '127.0.0.1');
  socket.on('error', () => {});
  socket.pause(); // reads nothing, ever
  const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
  t.teardown(() => socket.destroy());
  const describe = Buffer.from(`DESCRIBE ${url} RTSP/1.0\r\nCSeq: 1\r\n\r\n`);
  let sent = 0;
  let open = true;
  void closed.then(() => (open = false));
  // Replies (about 700 bytes each) pile up past the kernel buffers and the server's 16 MiB limit.
  while (open && sent < 200_000) {
    const batch = Buffer.concat(Array.from({ length: 1000 }, () => describe));
    if (!socket.write(batch)) await new Promise((resolve) => setTimeout(resolve, 20));
    sent += 1000;
    if (sent % 10_000 === 0) await new Promise((resolve) => setImmediate(resolve));
  }
  await Promise.race([closed, new Promise((resolve) => setTimeout(resolve, 30_000))]);
  t.equal(open, false, `disconnected after ${sent} requests`);
  const client = await TestRtspClient.connect(server.port);
  t.teardown(() => client.close());
  t.equal((await client.request('OPTIONS', '*')).status, 200, 'others are served');
});

t.test('interleaved data from the client on channels nobody set up is ignored', async (t) => {
  const { client } = await playOverTcp(server.port, 'cam.flv');
  t.teardown(() => client.close());
  const frames = [7, 200, 0, 255].map((channel) => Buffer.concat([Buffer.from([0x24, channel, 0, 4]), Buffer.from('junk')]));
  client.socket.write(Buffer.concat(frames));
  client.socket.write(Buffer.from([0x24, 9, 0xff, 0xff])); // announces 65535 bytes, then sends a few
  client.socket.write(Buffer.alloc(100));
  await new Promise((resolve) => setTimeout(resolve, 300));
  const connection = [...server.connections].find((candidate) => candidate.sessions.size > 0)!;
  t.equal(connection.unexpectedData, 4, 'channels 7, 200, 0 (RTP goes only to the client) and 255 counted');
  const before = client.packets.length;
  await client.until(() => client.packets.length > before + 5, 5000, 'RTP going on');
  t.equal(server.readerCount(), 1);
});

t.test('a TCP reader that never reads is dropped to keyframes, then disconnected by the write timeout; the others go on', async (t) => {
  const jpegs = startJpegFeed({ size: '1280x720', rate: 25 });
  t.teardown(() => jpegs.stop());
  server.mount('big.mjpg', jpegRtpPayloader(jpegs, 0, () => {}), { budgetBytes: 64 * 1024, hardLimitBytes: 512 * 1024, writeTimeoutMs: 3000 });
  t.teardown(() => server.unmount('big.mjpg'));
  const healthy = await playOverTcp(server.port, 'big.mjpg');
  t.teardown(() => healthy.client.close());
  const stuck = await playOverTcp(server.port, 'big.mjpg');
  stuck.client.socket.pause(); // reads nothing from now on
  t.teardown(() => stuck.client.close());
  await waitFor(() => server.readerCount('big.mjpg') === 1, 30_000, 'the stuck reader to be disconnected');
  const stats = server.stats('big.mjpg')!;
  t.ok(stats.drops > 0, `frames dropped for it first (${stats.drops})`);
  const before = healthy.client.packets.length;
  await healthy.client.until(() => healthy.client.packets.length > before + 50, 5000, 'the healthy reader to go on');
  t.equal(jpegs.holders, 1, 'only the healthy reader holds the camera');
});

t.test('a UDP reader whose port is closed is sent nothing, and its session times out', async (t) => {
  const probe = createSocket('udp4');
  await new Promise<void>((resolve) => probe.bind(0, '127.0.0.1', resolve));
  const closedPort = probe.address().port;
  probe.close(); // nothing listens there now: every datagram draws an ICMP port unreachable
  const client = await TestRtspClient.connect(server.port);
  t.teardown(() => client.close());
  const bytesBefore = server.stats('cam.flv')!.bytesOut;
  const setup = await client.request('SETUP', `${url}/trackID=0`, { Transport: `RTP/AVP;unicast;client_port=${closedPort}-${closedPort + 1}` });
  t.equal(setup.status, 200);
  t.match(setup.headers.get('Transport'), new RegExp(`client_port=${closedPort}-${closedPort + 1};server_port=\\d+-\\d+;ssrc=[0-9A-F]{8}`));
  const session = setup.headers.get('Session')!.split(';')[0]!;
  t.equal((await client.request('PLAY', url, { Session: session })).status, 200);
  await new Promise((resolve) => setTimeout(resolve, 1000));
  t.equal(server.stats('cam.flv')!.bytesOut, bytesBefore, 'no RTP to a port that never asked for it');
  t.equal(server.readerCount('cam.flv'), 1);
  await waitFor(() => server.readerCount('cam.flv') === 0, 6000, 'the silent UDP session to time out');
  t.equal((await client.request('OPTIONS', '*')).status, 200, 'the server is fine');
});

t.test('1,000 connections that send nothing are bounded and timed out; a real client is still served', async (t) => {
  const sockets: Socket[] = [];
  let closedByServer = 0;
  for (let i = 0; i < 1000; i++) {
    const socket = connect(server.port, '127.0.0.1');
    socket.on('error', () => {});
    socket.on('close', () => closedByServer++);
    sockets.push(socket);
  }
  t.teardown(() => sockets.forEach((socket) => socket.destroy()));
  await waitFor(() => server.connections.size >= 1000, 10_000, 'the connections to be accepted');
  const client = await TestRtspClient.connect(server.port);
  t.teardown(() => client.close());
  t.equal((await client.request('OPTIONS', '*')).status, 200, 'served among them');
  await waitFor(() => closedByServer === 1000, 10_000, 'the idle connections to be closed');
  t.pass('all 1,000 closed by the idle timeout');
});

t.test('sessions are bounded per connection and in all; the ones over get 503', async (t) => {
  const small = await startServer({ maxSessions: 10 });
  small.mount('cam.flv', h264RtpPayloader(video), LIMITS);
  t.teardown(() => small.close());
  const smallUrl = `rtsp://127.0.0.1:${small.port}/cam.flv/trackID=0`;
  const statuses: number[] = [];
  const clients = [await TestRtspClient.connect(small.port), await TestRtspClient.connect(small.port)];
  t.teardown(() => clients.forEach((client) => client.close()));
  for (let i = 0; i < 9; i++) statuses.push((await clients[0]!.request('SETUP', smallUrl, { Transport: 'RTP/AVP;unicast;client_port=9-10' })).status);
  t.same(statuses, [200, 200, 200, 200, 200, 200, 200, 200, 503], 'eight per connection');
  for (let i = 0; i < 3; i++) statuses.push((await clients[1]!.request('SETUP', smallUrl, { Transport: 'RTP/AVP;unicast;client_port=9-10' })).status);
  t.same(statuses.slice(9), [200, 200, 503], 'ten in all');
  t.equal(small.sessions.size, 10);
  t.equal(small.readerCount(), 0, 'sessions that have not played are not readers');
});

t.test('connections beyond the limit are refused at once', async (t) => {
  const small = await startServer({ maxConnections: 20 });
  t.teardown(() => small.close());
  const sockets: Socket[] = [];
  let closed = 0;
  for (let i = 0; i < 40; i++) {
    const socket = connect(small.port, '127.0.0.1');
    socket.on('error', () => {});
    socket.on('close', () => closed++);
    sockets.push(socket);
  }
  t.teardown(() => sockets.forEach((socket) => socket.destroy()));
  await waitFor(() => closed >= 20, 5000, 'the extra connections to be closed');
  t.ok(small.connections.size <= 20, `${small.connections.size} connections held`);
});
