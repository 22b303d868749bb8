import t, { type Test } from 'tap';
import dgram from 'node:dgram';
import net from 'node:net';
import { frameInterleaved } from '../../../media/rtsp/interleaved.ts';
import { RtspAdapter } from '../../../adapters/rtsp/client.ts';
import type { CameraConfig } from '../../../conf/types.ts';
import { makeCameraConfig } from '../../helpers/camera-config.ts';
import { nalBytes, RecordingSink } from '../../helpers/sink.ts';
import { FakeRtspServer, type Handler } from './fake-server.ts';
import { rtpBytes } from './rtp-builder.ts';

/** Runs the adapter against a fake server; the test tears both down. */
async function start(t: Test, handler: Handler, overrides: Partial<CameraConfig> = {}, rate = 20) {
  const server = new FakeRtspServer(handler);
  server.rate = rate;
  await server.listen();
  const sink = new RecordingSink();
  const outcome = new RtspAdapter(makeCameraConfig(server.url, { readTimeoutMs: 3_000, ...overrides })).run(sink);
  outcome.catch(() => {});
  t.teardown(async () => {
    sink.stop();
    await outcome.catch(() => {});
    await server.close();
  });
  return { server, sink, outcome };
}

t.test('a well-behaved server: frames flow, unknown interleaved channels are ignored, garbage RTP is skipped', async (t) => {
  const { sink, server } = await start(t, (request, connection) => {
    if (request.method !== 'PLAY') return undefined;
    connection.write(frameInterleaved(4, Buffer.from('a track nobody set up')));
    connection.write(frameInterleaved(0, Buffer.from('not RTP at all')));
    connection.write(frameInterleaved(1, Buffer.from('not RTCP either')));
    return undefined;
  });
  await sink.waitForFrames(12, 5_000);
  t.same(server.methods().slice(0, 5), ['OPTIONS', 'DESCRIBE', 'SETUP', 'SETUP', 'PLAY'], 'the video track, then the (PCMU) audio track');
  t.equal(server.requests[2]!.uri, `${server.url}/trackID=1`, 'the first SETUP goes to the video track, not the audio one');
  t.equal(server.requests[3]!.uri, `${server.url}/trackID=9`, 'the second to the audio track');
  t.equal(server.requests[4]!.headers.get('Session'), '12345678', 'PLAY carries the session id without its timeout');
  t.ok(sink.frames[0]!.keyframe, 'the first frame is the IDR');
  t.same(sink.frames.slice(0, 3).map((frame) => frame.pts), [0, 100, 200], 'timestamps from the 90 kHz clock');
  t.equal(server.connections.length, 1);
});

t.test('401 forever, with credentials, is AUTH after one retry', async (t) => {
  // Guards against retrying a refused password in a loop, and against leaking it.
  const { outcome, server } = await start(t, () => ({ status: 401, reason: 'Unauthorized', headers: [['WWW-Authenticate', 'Basic realm="cam"']] }), { username: 'admin', password: 'hunter2' });
  const error = await outcome.then(() => undefined, (caught: unknown) => caught as Error);
  t.match(error, { name: 'AdapterError', code: 'AUTH', message: 'RTSP 401 Unauthorized during OPTIONS: credentials refused' });
  t.notMatch(error?.message ?? '', /hunter2|admin/);
  t.same(server.methods(), ['OPTIONS', 'OPTIONS']);
  t.equal(server.requests[1]!.headers.get('Authorization'), `Basic ${Buffer.from('admin:hunter2').toString('base64')}`);
});

const STATUS_CASES: Array<{ method: string; status: number; reason: string }> = [
  { method: 'DESCRIBE', status: 404, reason: 'Not Found' },
  { method: 'SETUP', status: 461, reason: 'Unsupported Transport' },
  { method: 'PLAY', status: 454, reason: 'Session Not Found' },
];

for (const { method, status, reason } of STATUS_CASES) {
  t.test(`${status} on ${method} is UPSTREAM_STATUS naming the status and the step`, async (t) => {
    const { outcome } = await start(t, (request) => (request.method === method ? { status, reason } : undefined));
    await t.rejects(outcome, { name: 'AdapterError', code: 'UPSTREAM_STATUS', message: `RTSP ${status} ${reason} during ${method}` });
  });
}

const PROTOCOL_CASES: Array<{ name: string; handler: Handler; message: RegExp }> = [
  {
    name: 'a malformed SDP',
    handler: (request) => (request.method === 'DESCRIBE' ? { status: 200, body: 'v=0\r\nm=video\r\n' } : undefined),
    message: /SDP: malformed m= line/,
  },
  {
    name: 'an SDP with no video',
    handler: (request) => (request.method === 'DESCRIBE' ? { status: 200, body: 'v=0\r\nm=audio 0 RTP/AVP 0\r\n' } : undefined),
    message: /no video track/,
  },
  {
    name: 'an oversized header block',
    handler: () => Buffer.from(`RTSP/1.0 200 OK\r\nCSeq: 1\r\nX-Junk: ${'x'.repeat(20_000)}\r\n\r\n`),
    message: /header block larger than 16384/,
  },
  {
    name: 'an oversized body',
    handler: () => Buffer.from(`RTSP/1.0 200 OK\r\nCSeq: 1\r\nContent-Length: 1000000\r\n\r\n`),
    message: /body larger than 65536/,
  },
  {
    name: 'a reply that is not RTSP',
    handler: () => Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n'),
    message: /malformed request line/,
  },
  {
    name: 'a SETUP reply without a session',
    handler: (request) => (request.method === 'SETUP' ? { status: 200, headers: [['Transport', 'RTP/AVP/TCP;unicast;interleaved=0-1']] } : undefined),
    message: /without a usable Session/,
  },
];

for (const { name, handler, message } of PROTOCOL_CASES) {
  t.test(`${name} is a PROTOCOL error`, async (t) => {
    const { outcome } = await start(t, handler);
    await t.rejects(outcome, { name: 'AdapterError', code: 'PROTOCOL', message });
  });
}

t.test('an access unit over maxFrameBytes, sent as largest interleaved frames, is a PROTOCOL error', async (t) => {
  // Guards against one endless frame growing memory without bound.
  const { outcome } = await start(t, (request, connection) => {
    if (request.method !== 'PLAY') return undefined;
    setImmediate(() => {
      for (let i = 0; i < 10; i++) {
        const fragment = Buffer.concat([Buffer.from([0x7c, i === 0 ? 0x85 : 0x05]), Buffer.alloc(0xffff - 14, 0x42)]);
        connection.write(frameInterleaved(0, rtpBytes({ payloadType: 96, sequence: i, timestamp: 0 }, fragment)));
      }
    });
    return undefined;
  }, { maxFrameBytes: 200_000 }, 0);
  await t.rejects(outcome, { code: 'PROTOCOL', message: /access unit larger than 200000/ });
});

t.test('keep-alive: GET_PARAMETER with the session id goes out within the session timeout', async (t) => {
  const { server, sink } = await start(t, (request) =>
    request.method === 'SETUP' ? { status: 200, headers: [['Transport', 'RTP/AVP/TCP;unicast;interleaved=0-1'], ['Session', 'abc;timeout=1']] } : undefined);
  await sink.waitForFrames(1, 5_000);
  const deadline = Date.now() + 3_000;
  while (!server.methods().includes('GET_PARAMETER') && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
  const keepAlive = server.requests.find((request) => request.method === 'GET_PARAMETER');
  t.ok(keepAlive, 'a GET_PARAMETER was sent');
  t.equal(keepAlive?.headers.get('Session'), 'abc');
});

t.test('abort sends TEARDOWN, resolves promptly and closes the connection', async (t) => {
  const { server, sink, outcome } = await start(t, () => undefined);
  await sink.waitForFrames(3, 5_000);
  const closed = new Promise<void>((resolve) => server.connections[0]!.socket.once('close', () => resolve()));
  const stoppedAt = Date.now();
  sink.stop();
  await outcome;
  t.ok(Date.now() - stoppedAt < 200, 'run() resolved at once');
  await closed;
  t.equal(server.methods().at(-1), 'TEARDOWN');
  t.equal(server.requests.at(-1)!.headers.get('Session'), '12345678');
});

t.test('a server that never answers is a TIMEOUT', async (t) => {
  const { outcome } = await start(t, () => 'silence', { readTimeoutMs: 300 });
  await t.rejects(outcome, { code: 'TIMEOUT', message: 'RTSP: no reply to OPTIONS within 300 ms' });
});

t.test('no RTP after PLAY is a TIMEOUT', async (t) => {
  const { outcome, sink } = await start(t, () => undefined, { readTimeoutMs: 400 }, 0);
  await t.rejects(outcome, { code: 'TIMEOUT', message: 'RTSP: no RTP data for 400 ms' });
  t.ok(sink.connectedAt !== undefined, 'it had connected');
});

t.test('the camera closing the connection mid-stream is CLOSED', async (t) => {
  const { outcome, sink, server } = await start(t, () => undefined);
  await sink.waitForFrames(2, 5_000);
  server.connections[0]!.socket.destroy();
  await t.rejects(outcome, { code: 'CLOSED' });
});

t.test('a refused connection is CONNECT', async (t) => {
  const probe = net.createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const port = (probe.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  const sink = new RecordingSink();
  await t.rejects(new RtspAdapter(makeCameraConfig(`rtsp://127.0.0.1:${port}/x`)).run(sink), { code: 'CONNECT' });
});

t.test('UDP: datagrams from any host but the camera are ignored, and receiver reports reach its RTCP port', async (t) => {
  // Guards against anyone on the network injecting frames into a UDP session.
  const rtpOut = dgram.createSocket('udp4');
  const rtcpIn = dgram.createSocket('udp4');
  const intruder = dgram.createSocket('udp4');
  await Promise.all([bindUdp(rtpOut, '127.0.0.1'), bindUdp(rtcpIn, '127.0.0.1'), bindUdp(intruder, '127.0.0.2')]);
  t.teardown(() => [rtpOut, rtcpIn, intruder].forEach((socket) => socket.close()));
  const reports: Buffer[] = [];
  rtcpIn.on('message', (packet) => reports.push(packet));
  let clientRtpPort = 0;
  let sequence = 0;
  const { sink, server } = await start(t, (request) => {
    if (request.method === 'SETUP') {
      const ports = /client_port=(\d+)-(\d+)/.exec(request.headers.get('Transport') ?? '');
      clientRtpPort ||= Number(ports?.[1]); // the video track's (the first SETUP), not the audio track's
      const serverPorts = `${rtpOut.address().port}-${rtcpIn.address().port}`;
      return { status: 200, headers: [['Transport', `RTP/AVP;unicast;client_port=${ports?.[1]}-${ports?.[2]};server_port=${serverPorts}`], ['Session', 'udp1']] };
    }
    if (request.method === 'PLAY') {
      const timer = setInterval(() => {
        const frame = (size: number, seq: number): Buffer => rtpBytes({ payloadType: 96, sequence: seq, timestamp: seq * 9000, marker: true }, Buffer.concat([Buffer.from([0x65]), Buffer.alloc(size)]));
        intruder.send(frame(999, sequence + 1), clientRtpPort, '127.0.0.1');
        rtpOut.send(frame(100, sequence++), clientRtpPort, '127.0.0.1');
      }, 50);
      t.teardown(() => clearInterval(timer));
      return { status: 200 };
    }
    return undefined;
  }, { rtspTransport: 'udp' }, 0);
  await sink.waitForFrames(10, 5_000);
  t.ok(clientRtpPort % 2 === 0 && clientRtpPort > 0, 'the client RTP port is even');
  t.ok(sink.frames.every((frame) => nalBytes(frame).length === 4 + 101), 'only the camera\'s frames came through');
  const deadline = Date.now() + 3_000;
  while (reports.length === 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
  t.equal(reports[0]?.[1], 201, 'a receiver report arrived at the server RTCP port');
  t.equal(server.requests[2]?.headers.get('Transport')?.startsWith('RTP/AVP;unicast;client_port='), true);
});

function bindUdp(socket: dgram.Socket, address: string): Promise<void> {
  return new Promise((resolve) => socket.bind(0, address, () => resolve()));
}

/** Video and PCMA audio, as an IP camera with a microphone describes them. */
const AUDIO_SDP = 'v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\ns=fake\r\nt=0 0\r\na=control:*\r\n'
  + 'm=video 0 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\na=fmtp:96 packetization-mode=1\r\na=control:trackID=1\r\n'
  + 'm=audio 0 RTP/AVP 8\r\na=rtpmap:8 PCMA/8000\r\na=control:trackID=2\r\n';

/** Answers DESCRIBE with AUDIO_SDP and the audio SETUP with channels 2-3; `play` runs once PLAY is answered. */
function audioCamera(play: (connection: Parameters<Handler>[1]) => void = () => {}): Handler {
  return (request, connection) => {
    if (request.method === 'DESCRIBE') return { status: 200, body: AUDIO_SDP };
    if (request.method === 'SETUP' && request.uri.endsWith('trackID=2')) {
      return { status: 200, headers: [['Transport', 'RTP/AVP/TCP;unicast;interleaved=2-3'], ['Session', '12345678;timeout=60']] };
    }
    if (request.method === 'PLAY') setTimeout(() => play(connection), 50);
    return undefined;
  };
}

t.test('audio announced in the SDP but never sent: both tracks set up, the picture plays, no sound', async (t) => {
  const { sink, server } = await start(t, audioCamera());
  await sink.waitForFrames(12, 5_000);
  t.same(server.methods().slice(0, 5), ['OPTIONS', 'DESCRIBE', 'SETUP', 'SETUP', 'PLAY']);
  t.match(server.requests[3]!.uri, /\/trackID=2$/, 'the second SETUP is the audio track\'s');
  t.equal(server.requests[3]!.headers.get('Session'), '12345678', 'in the same session');
  t.match(server.requests[3]!.headers.get('Transport'), /interleaved=2-3/);
  t.same(sink.audio, []);
  t.ok(sink.logs.some((line) => /with PCMA audio/.test(line)), 'the log says the camera has sound');
});

t.test('audio sent on its channel: PCMA frames on the session\'s clock beside the picture', async (t) => {
  const { sink } = await start(t, audioCamera((connection) => {
    for (let i = 0; i < 10; i++) connection.write(frameInterleaved(2, rtpBytes({ payloadType: 8, sequence: i, timestamp: i * 160 }, Buffer.alloc(160, 0xd5))));
  }));
  await sink.waitForFrames(12, 5_000);
  t.equal(sink.audio.length, 10);
  t.match(sink.audio[0]!.track, { codec: 'pcma', sampleRate: 8000, channels: 1 });
  t.same(sink.audio.slice(1).map((unit, i) => Math.round(unit.pts - sink.audio[i]!.pts)), Array(9).fill(20), '20 ms apart by their RTP times');
  t.ok(Math.abs(sink.audio[0]!.pts - sink.frames[0]!.pts) < 500, 'on the picture\'s clock');
});
