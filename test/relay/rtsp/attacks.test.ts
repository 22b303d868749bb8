import { connect, type Socket } from 'node:net';
import t from 'tap';
import { startTestEncodedSource } from '../../helpers/encoded-source.ts';
import { waitFor } from '../../helpers/probe.ts';
import { h264RtpPayloader } from '../../../relay/rtsp/rtp-payloaders.ts';
import { countingSource, countingUdpPort, LIMITS, playOverTcp, startServer, TestRtspClient } from './fixtures.ts';

// Attacks on the RTSP server by a client of 127.0.0.1: reflection and amplification, held sessions and connections,
// and sessions driven from another connection.
const encoded = startTestEncodedSource({ size: '320x240', rate: 25, gop: 25 });
const video = countingSource(encoded.hub);
const server = await startServer({ sessionTimeoutMs: 1500, unplayedTimeoutMs: 3000, maxConnectionsPerAddress: () => 16 });
server.mount('cam.flv', h264RtpPayloader(video), LIMITS);
// The same encoder under another name: a reader there measures the stream's own rate beside an attack on cam.flv.
server.mount('ref.flv', h264RtpPayloader(video), LIMITS);
const url = `rtsp://127.0.0.1:${server.port}/cam.flv`;
t.teardown(async () => {
  await server.close();
  encoded.stop();
});
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** SETUP over UDP to `rtpPort`-`rtpPort + 1` and PLAY; returns the session id and the server's RTP port. */
async function playOverUdp(client: TestRtspClient, rtpPort: number): Promise<{ session: string; serverRtpPort: number }> {
  const setup = await client.request('SETUP', `${url}/trackID=0`, { Transport: `RTP/AVP;unicast;client_port=${rtpPort}-${rtpPort + 1}` });
  if (setup.status !== 200) throw new Error(`SETUP answered ${setup.status}`);
  const session = setup.headers.get('Session')!.split(';')[0]!;
  const serverRtpPort = Number(/server_port=(\d+)-/.exec(setup.headers.get('Transport') ?? '')![1]);
  const play = await client.request('PLAY', url, { Session: session });
  if (play.status !== 200) throw new Error(`PLAY answered ${play.status}`);
  return { session, serverRtpPort };
}

// Guards: SETUP naming any UDP port of the requester's address, PLAY, close: the relay streamed to a port that never spoke.
t.test('RTP goes only to a UDP port that asked for it, and stops once it falls silent after its connection closed', async (t) => {
  const silent = await countingUdpPort();
  const asking = await countingUdpPort();
  t.teardown(() => {
    silent.socket.close();
    asking.socket.close();
  });
  const client = await TestRtspClient.connect(server.port);
  await playOverUdp(client, silent.port);
  const other = await TestRtspClient.connect(server.port);
  t.teardown(() => other.close());
  const { serverRtpPort } = await playOverUdp(other, asking.port);
  // NAT punches from the client's RTP port, as ffmpeg and GStreamer send after SETUP.
  const punch = (): void => asking.socket.send(Buffer.alloc(12), serverRtpPort, '127.0.0.1');
  punch();
  const timer = setInterval(punch, 500);
  t.teardown(() => clearInterval(timer));
  client.close();
  await sleep(2500);
  t.equal(silent.bytes(), 0, `a port that never spoke got ${silent.bytes()} bytes`);
  t.ok(asking.bytes() > 20_000, `the port that asked gets the stream (${asking.bytes()} bytes)`);
  t.equal(server.sessions.size, 1, 'the silent port\'s session ended with its connection');
  clearInterval(timer);
  other.close();
  await waitFor(() => server.sessions.size === 0, 5000, 'the session of a port that fell silent to end');
  const after = asking.bytes();
  await sleep(1500);
  t.equal(asking.bytes(), after, 'nothing more once it fell silent and its connection closed');
});

// Guards: 1,000 pipelined PLAY+PAUSE pairs replayed the kept keyframe group each time (a 390x amplifier).
t.test('pipelined PLAY/PAUSE pairs and SETUP/PLAY/TEARDOWN loops get no more than about the stream\'s own rate', async (t) => {
  const reference = await playOverTcp(server.port, 'ref.flv');
  t.teardown(() => reference.client.close());
  await sleep(1500); // the stream's rate is measured over what it has sent
  const received = (client: TestRtspClient): number => client.packets.reduce((sum, packet) => sum + packet.bytes.length, 0);
  const referenceStart = received(reference.client);
  const startedAt = Date.now();

  const attacker = await TestRtspClient.connect(server.port);
  t.teardown(() => attacker.close());
  const setup = await attacker.request('SETUP', `${url}/trackID=0`, { Transport: 'RTP/AVP/TCP;unicast;interleaved=0-1' });
  const session = setup.headers.get('Session')!.split(';')[0]!;
  const pairs = 300;
  let text = '';
  for (let i = 0; i < pairs; i++) {
    text += `PLAY ${url} RTSP/1.0\r\nCSeq: ${100 + 2 * i}\r\nSession: ${session}\r\n\r\n`;
    text += `PAUSE ${url} RTSP/1.0\r\nCSeq: ${101 + 2 * i}\r\nSession: ${session}\r\n\r\n`;
  }
  attacker.socket.write(text);
  for (let i = 0; i < 2 * pairs; i++) await attacker.nextReply();
  const looper = await TestRtspClient.connect(server.port);
  t.teardown(() => looper.close());
  for (let i = 0; i < 100; i++) {
    const reply = await looper.request('SETUP', `${url}/trackID=0`, { Transport: 'RTP/AVP/TCP;unicast;interleaved=0-1' });
    const id = reply.headers.get('Session')!.split(';')[0]!;
    await looper.request('PLAY', url, { Session: id });
    await looper.request('TEARDOWN', url, { Session: id });
  }
  await sleep(Math.max(0, 3000 - (Date.now() - startedAt)));
  const seconds = (Date.now() - startedAt) / 1000;
  const rate = (received(reference.client) - referenceStart) / seconds;
  const sent = received(attacker) + received(looper);
  t.comment(`${2 * pairs + 300} requests in ${seconds.toFixed(1)} s: ${sent} bytes, the stream's rate ${Math.round(rate)} B/s`);
  t.ok(rate > 5000, 'the reference reader measured the stream');
  // One free start, then at most twice the stream's rate in replays, plus a little live video between the requests.
  t.ok(sent < rate * (2 + 3 * seconds), `${sent} bytes is within a few times what the stream sent (${Math.round(rate * seconds)})`);
});

// Guards: PLAY, PAUSE, TEARDOWN and GET_PARAMETER were obeyed from any connection that knew the session id.
t.test('another connection that names a session gets 454 and changes nothing', async (t) => {
  const { client, session } = await playOverTcp(server.port, 'cam.flv');
  t.teardown(() => client.close());
  const intruder = await TestRtspClient.connect(server.port, '127.0.0.1');
  t.teardown(() => intruder.close());
  for (const method of ['PAUSE', 'GET_PARAMETER', 'PLAY', 'TEARDOWN']) {
    t.equal((await intruder.request(method, url, { Session: session })).status, 454, method);
  }
  const before = client.packets.length;
  await client.until(() => client.packets.length > before + 20, 3000, 'RTP still flowing to the owner');
  t.equal((await client.request('GET_PARAMETER', url, { Session: session })).status, 200, 'the owner still controls it');
});

// Guards: sessions that never played held viewer slots, and UDP ones outlived their connections for the session timeout.
t.test('sessions that never play are not readers, end with their connection or soon after SETUP, and are bounded per address', async (t) => {
  const clients: TestRtspClient[] = [];
  t.teardown(() => clients.forEach((client) => client.close()));
  const statuses: number[] = [];
  for (let c = 0; c < 9; c++) {
    const client = await TestRtspClient.connect(server.port);
    clients.push(client);
    for (let i = 0; i < 8; i++) {
      const transport = i % 2 === 0 ? 'RTP/AVP;unicast;client_port=9-10' : 'RTP/AVP/TCP;unicast';
      statuses.push((await client.request('SETUP', `${url}/trackID=0`, { Transport: transport })).status);
    }
  }
  t.equal(statuses.filter((status) => status === 200).length, 64, 'at most 64 sessions that have not played per address');
  t.equal(statuses.filter((status) => status === 503).length, 8, 'the rest refused');
  t.equal(server.readerCount('cam.flv'), 0, 'none of them is a reader');
  clients[0]!.close();
  await waitFor(() => server.sessions.size === 56, 2000, 'the UDP and TCP sessions of a closed connection to end');
  await waitFor(() => server.sessions.size === 0, 6000, 'sessions that never played to end');
});

// Guards: one address held all of the server's connections, so a reader from another address was refused.
t.test('one address holds its share of the connections; another address is still served', async (t) => {
  const sockets: Socket[] = [];
  let closed = 0;
  t.teardown(() => sockets.forEach((socket) => socket.destroy()));
  for (let i = 0; i < 40; i++) {
    const socket = connect(server.port, '127.0.0.1');
    socket.on('error', () => {});
    socket.on('close', () => closed++);
    sockets.push(socket);
  }
  await waitFor(() => closed >= 24, 5000, 'the connections over the share to be closed');
  t.equal(server.connectionsFrom.get('127.0.0.1'), 16);
  const other = await TestRtspClient.connect(server.port, '127.0.0.2');
  t.teardown(() => other.close());
  t.equal((await other.request('OPTIONS', '*')).status, 200, 'a client of another address is served');
});
