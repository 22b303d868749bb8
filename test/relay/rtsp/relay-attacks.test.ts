import { writeFile } from 'node:fs/promises';
import { connect, type Socket } from 'node:net';
import t from 'tap';
import { signViewerToken } from '../../../relay/auth/viewer-token.ts';
import { openViewer, waitFor } from '../../helpers/probe.ts';
import { unusedPort } from '../../helpers/ports.ts';
import { startTestRelay, syntheticConfig } from '../../helpers/relay.ts';
import { TestRtspClient } from './fixtures.ts';

// Attacks on the relay's RTSP edge through its config: MaxClients, MaxClientsPerIP and viewer tokens.
const rtspPort = await unusedPort();
const SECRET = 'rtsp-attack-secret-0123456789abcdef';
const configText = (secret: string): string =>
  `RTSPPort ${rtspPort}\nRTSPUDPPortRange 47000-47999\nMaxClients 10\nMaxClientsPerIP 20\nViewerTokenSecret ${secret}\n` +
  syntheticConfig({ rate: 10, extraStream: 'Access token' });
const running = await startTestRelay(configText(SECRET));
t.teardown(() => running.stop());
const server = running.rtsp!.server;
const rtsp = (name: string): string => `rtsp://127.0.0.1:${rtspPort}/${name}`;
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

// Guards: with MaxClientsPerIP 20, one address held every RTSP connection and a reader from another address was reset.
t.test('MaxClientsPerIP bounds the RTSP connections of one address; another address still plays', async (t) => {
  const sockets: Socket[] = [];
  let closed = 0;
  t.teardown(() => sockets.forEach((socket) => socket.destroy()));
  for (let i = 0; i < 40; i++) {
    const socket = connect({ port: rtspPort, host: '127.0.0.1', localAddress: '127.0.0.4' });
    socket.on('error', () => {});
    socket.on('close', () => closed++);
    socket.on('connect', () => socket.write(`OPTIONS * RTSP/1.0\r\nCSeq: ${i + 1}\r\n\r\n`));
    sockets.push(socket);
  }
  await waitFor(() => closed >= 20, 5000, 'the connections over MaxClientsPerIP to be closed');
  t.equal(server.connectionsFrom.get('127.0.0.4'), 20, 'twenty held');
  const other = await TestRtspClient.connect(rtspPort, '127.0.0.5');
  t.teardown(() => other.close());
  t.equal((await other.request('OPTIONS', '*')).status, 200, 'a client of another address is served');
});

// Guards: 126 connections x 8 SETUPs that never played filled MaxClients (HTTP viewers got 503) and lingered 55 s after.
t.test('sessions that never play hold no viewer slot, and end when their connection closes', async (t) => {
  const clients: TestRtspClient[] = [];
  t.teardown(() => clients.forEach((client) => client.close()));
  const statuses: number[] = [];
  for (let c = 0; c < 3; c++) {
    const client = await TestRtspClient.connect(rtspPort, '127.0.0.6');
    clients.push(client);
    for (let i = 0; i < 8; i++) {
      statuses.push((await client.request('SETUP', `${rtsp('test.mjpg')}/trackID=0`, { Transport: 'RTP/AVP;unicast;client_port=9-10' })).status);
    }
  }
  t.same([statuses.filter((s) => s === 200).length, statuses.filter((s) => s === 503).length], [20, 4], 'MaxClientsPerIP sessions per address');
  const viewer = await openViewer(`${running.baseUrl}/test.mjpg`);
  t.teardown(() => viewer.close());
  t.equal(viewer.response.statusCode, 200, 'an HTTP viewer is admitted under MaxClients 10');
  clients.forEach((client) => client.close());
  await waitFor(() => server.sessions.size === 0, 2500, 'their sessions to end with their connections');
});

// Guards: a connection authorised once kept its rights after its token expired and after the secret was rotated.
t.test('SETUP and PLAY check the connection\'s token again, against the current config', async (t) => {
  const warm = await TestRtspClient.connect(rtspPort);
  const later = Math.floor(Date.now() / 1000) + 3600;
  t.equal((await warm.request('DESCRIBE', `${rtsp('test.flv')}?token=${signViewerToken(SECRET, 'test.flv', later)}`)).status, 200, 'the encoder is up');
  warm.close();
  const expiresAt = Math.floor(Date.now() / 1000) + 3;
  const client = await TestRtspClient.connect(rtspPort);
  t.teardown(() => client.close());
  t.equal((await client.request('DESCRIBE', `${rtsp('test.flv')}?token=${signViewerToken(SECRET, 'test.flv', expiresAt)}`)).status, 200);
  t.equal((await client.request('SETUP', `${rtsp('test.flv')}/trackID=0`, { Transport: 'RTP/AVP/TCP;unicast' })).status, 200, 'SETUP while the token holds');
  await sleep(expiresAt * 1000 + 200 - Date.now());
  t.equal((await client.request('SETUP', `${rtsp('test.flv')}/trackID=0`, { Transport: 'RTP/AVP/TCP;unicast' })).status, 410, 'SETUP after it expired');

  const reader = await TestRtspClient.connect(rtspPort);
  t.teardown(() => reader.close());
  t.equal((await reader.request('DESCRIBE', `${rtsp('test.flv')}?token=${signViewerToken(SECRET, 'test.flv', later)}`)).status, 200);
  const setup = await reader.request('SETUP', `${rtsp('test.flv')}/trackID=0`, { Transport: 'RTP/AVP/TCP;unicast' });
  t.equal(setup.status, 200);
  const session = setup.headers.get('Session')!.split(';')[0]!;
  await writeFile(running.configFile, configText('rotated-secret-0123456789abcdefghij'));
  await running.reload();
  t.equal((await reader.request('SETUP', `${rtsp('test.flv')}/trackID=0`, { Transport: 'RTP/AVP/TCP;unicast' })).status, 403, 'SETUP after the secret was rotated');
  t.equal((await reader.request('PLAY', rtsp('test.flv'), { Session: session })).status, 403, 'PLAY after the secret was rotated');
  const renewed = await TestRtspClient.connect(rtspPort);
  t.teardown(() => renewed.close());
  t.equal((await renewed.request('DESCRIBE', `${rtsp('test.flv')}?token=${signViewerToken('rotated-secret-0123456789abcdefghij', 'test.flv', later)}`)).status, 200);
  const again = await renewed.request('SETUP', `${rtsp('test.flv')}/trackID=0`, { Transport: 'RTP/AVP/TCP;unicast' });
  t.equal(again.status, 200);
  t.equal((await renewed.request('PLAY', rtsp('test.flv'), { Session: again.headers.get('Session')!.split(';')[0]! })).status, 200, 'a token of the new secret plays');
});
