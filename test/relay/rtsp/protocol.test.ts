import { createSocket, type Socket } from 'node:dgram';
import t from 'tap';
import { parseRtpPacket } from '../../../media/rtp/rtp.ts';
import { ReceiverReporter } from '../../../media/rtp/rtcp.ts';
import { startTestEncodedSource } from '../../helpers/encoded-source.ts';
import { h264RtpPayloader } from '../../../relay/rtsp/rtp-payloaders.ts';
import { countingSource, LIMITS, playOverTcp, startServer, TestRtspClient } from './fixtures.ts';

const encoded = startTestEncodedSource({ size: '320x240', rate: 25, gop: 25 });
const video = countingSource(encoded.hub);
const server = await startServer({ sessionTimeoutMs: 1500 });
server.mount('cam.flv', h264RtpPayloader(video), LIMITS);
const url = `rtsp://127.0.0.1:${server.port}/cam.flv`;
t.teardown(async () => {
  await server.close();
  encoded.stop();
});

const NAL_SPS = 7;
/** The H.264 NAL type an RTP payload starts (FU-A: the fragmented unit's type). */
const nalType = (payload: Buffer): number => ((payload[0]! & 0x1f) === 28 ? payload[1]! & 0x1f : payload[0]! & 0x1f);
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

t.test('OPTIONS lists the methods; DESCRIBE gives an H.264 SDP with parameter sets', async (t) => {
  const client = await TestRtspClient.connect(server.port);
  t.teardown(() => client.close());
  const options = await client.request('OPTIONS', '*');
  t.equal(options.status, 200);
  t.match(options.headers.get('Public'), /DESCRIBE.*SETUP.*PLAY.*PAUSE.*TEARDOWN.*GET_PARAMETER/);
  const describe = await client.request('DESCRIBE', url, { Accept: 'application/sdp' });
  t.equal(describe.status, 200);
  t.equal(describe.headers.get('Content-Type'), 'application/sdp');
  t.equal(describe.headers.get('Content-Base'), `${url}/`);
  const sdp = describe.body.toString();
  t.match(sdp, /^m=video 0 RTP\/AVP 96\r$/m);
  t.match(sdp, /^a=rtpmap:96 H264\/90000\r$/m);
  t.match(sdp, /^a=fmtp:96 packetization-mode=1;profile-level-id=[0-9a-f]{6};sprop-parameter-sets=[A-Za-z0-9+/=]+,[A-Za-z0-9+/=]+\r$/m);
  t.match(sdp, /^a=control:trackID=0\r$/m);
});

t.test('SETUP, PLAY, PAUSE (no RTP for 3 s), PLAY (RTP again from a keyframe), TEARDOWN', async (t) => {
  const { client, session, play } = await playOverTcp(server.port, 'cam.flv');
  t.teardown(() => client.close());
  t.equal(play.status, 200);
  t.match(play.headers.get('Session'), new RegExp(`^${session};timeout=2$`), 'timeout announced in Session');
  const info = /^url=(\S+);seq=(\d+);rtptime=(\d+)$/.exec(play.headers.get('RTP-Info') ?? '');
  t.ok(info, `RTP-Info: ${play.headers.get('RTP-Info')}`);
  t.equal(info![1], `${url}/trackID=0`);
  await client.until(() => client.packets.filter((p) => p.rtp?.marker).length >= 10, 10_000, 'ten frames');
  const first = client.packets.find((p) => p.rtp)!.rtp!;
  t.equal(first.sequence, Number(info![2]), 'first packet has the announced sequence number');
  t.equal(first.timestamp, Number(info![3]), 'and the announced RTP time');
  t.equal(nalType(first.payload), NAL_SPS, 'a new reader starts at a keyframe (parameter sets first)');
  t.equal(first.payloadType, 96);

  const paused = await client.request('PAUSE', url, { Session: session });
  t.equal(paused.status, 200);
  const countAtPause = paused.packetsBefore;
  for (let i = 0; i < 3; i++) {
    await sleep(1000);
    t.equal((await client.request('GET_PARAMETER', url, { Session: session })).status, 200, 'keep-alive while paused');
  }
  t.equal(client.packets.filter((p) => p.rtp).length, client.packets.slice(0, countAtPause).filter((p) => p.rtp).length, 'no RTP for 3 s while paused');
  const lastBefore = client.packets.filter((p) => p.rtp).pop()!.rtp!;

  const resumed = await client.request('PLAY', url, { Session: session });
  t.equal(resumed.status, 200);
  const resumedAt = resumed.packetsBefore;
  await client.until(() => client.packets.slice(resumedAt).some((p) => p.rtp?.marker), 5000, 'RTP after resuming');
  const firstAfter = client.packets.slice(resumedAt).find((p) => p.rtp)!.rtp!;
  t.equal(nalType(firstAfter.payload), NAL_SPS, 'resumes at a keyframe');
  t.ok(((firstAfter.sequence - lastBefore.sequence) & 0xffff) > 0 && ((firstAfter.sequence - lastBefore.sequence) & 0xffff) < 0x8000, 'sequence goes on forward');
  t.ok(((firstAfter.timestamp - lastBefore.timestamp) >>> 0) >= 90_000 * 2.5, 'RTP time moved on by the pause');

  const teardown = await client.request('TEARDOWN', url, { Session: session });
  t.equal(teardown.status, 200);
  const countAtTeardown = teardown.packetsBefore;
  await sleep(500);
  t.equal(client.packets.length, countAtTeardown, 'no RTP after TEARDOWN');
  t.equal((await client.request('GET_PARAMETER', url, { Session: session })).status, 454, 'the session is gone');
  t.equal(server.readerCount('cam.flv'), 0);
  t.equal(video.holders, 0, 'the encoder is released');
});

t.test('RTCP sender reports arrive on the RTCP channel with the stream SSRC', async (t) => {
  const { client } = await playOverTcp(server.port, 'cam.flv');
  t.teardown(() => client.close());
  await client.until(() => client.packets.some((p) => p.channel === 1), 8000, 'a sender report');
  const report = client.packets.find((p) => p.channel === 1)!.bytes;
  t.equal(report[1], 200, 'SR');
  const ssrc = client.packets.find((p) => p.rtp)!.rtp!.ssrc;
  t.equal(report.readUInt32BE(4), ssrc);
  t.ok(report.readUInt32BE(20) > 0, 'packet count');
});

t.test('a reader of another client in the same connection can use other channels; GET_PARAMETER keeps a session', async (t) => {
  const client = await TestRtspClient.connect(server.port);
  t.teardown(() => client.close());
  const setup = await client.request('SETUP', `${url}/trackID=0`, { Transport: 'RTP/AVP/TCP;unicast' });
  t.equal(setup.status, 200);
  t.match(setup.headers.get('Transport'), /interleaved=0-1/, 'free channels chosen when the client names none');
  const session = setup.headers.get('Session')!.split(';')[0]!;
  for (let i = 0; i < 3; i++) {
    await sleep(800);
    t.equal((await client.request('GET_PARAMETER', url, { Session: session })).status, 200, 'keep-alive');
  }
  t.equal((await client.request('PLAY', url, { Session: session })).status, 200, 'alive after 2.4 s > its 1.5 s timeout');
});

/** A client's RTP/RTCP port pair: the first free even/odd pair from 44000. */
async function clientPorts(): Promise<[Socket, Socket]> {
  const bind = (port: number): Promise<Socket | undefined> => new Promise((resolve) => {
    const socket = createSocket('udp4');
    socket.once('error', () => {
      socket.close();
      resolve(undefined);
    });
    socket.bind(port, '127.0.0.1', () => resolve(socket));
  });
  for (let port = 44000; port < 45000; port += 2) {
    const rtp = await bind(port);
    const rtcp = rtp && (await bind(port + 1));
    if (rtp && rtcp) return [rtp, rtcp];
    rtp?.close();
  }
  throw new Error('no free UDP port pair');
}

t.test('a UDP reader gets RTP on its RTP port, sender reports on its RTCP port, and its receiver reports keep the session', async (t) => {
  const [rtp, rtcp] = await clientPorts();
  t.teardown(() => {
    rtp.close();
    rtcp.close();
  });
  const packets: Buffer[] = [];
  const reports: Buffer[] = [];
  rtp.on('message', (message) => packets.push(message));
  rtcp.on('message', (message) => reports.push(message));
  const client = await TestRtspClient.connect(server.port);
  t.teardown(() => client.close());
  const setup = await client.request('SETUP', `${url}/trackID=0`, { Transport: `RTP/AVP;unicast;client_port=${rtp.address().port}-${rtcp.address().port}` });
  t.equal(setup.status, 200);
  const serverPorts = /server_port=(\d+)-(\d+)/.exec(setup.headers.get('Transport') ?? '');
  t.ok(serverPorts, 'server ports announced');
  const session = setup.headers.get('Session')!.split(';')[0]!;
  t.equal((await client.request('PLAY', url, { Session: session })).status, 200);
  // Receiver reports every second from the client's RTCP port keep the session past its 1.5 s timeout without requests.
  const reporter = new ReceiverReporter(90_000);
  const timer = setInterval(() => rtcp.send(reporter.buildReport(Date.now()), Number(serverPorts![2]), '127.0.0.1'), 1000);
  t.teardown(() => clearInterval(timer));
  await new Promise((resolve) => setTimeout(resolve, 6500));
  t.ok(packets.length > 100, `${packets.length} RTP packets`);
  t.equal(nalType(parseRtpPacket(packets[0]!).payload), NAL_SPS, 'starts with the parameter sets of a keyframe');
  t.ok(reports.some((report) => report[1] === 200), 'a sender report arrived');
  t.equal(server.readerCount('cam.flv'), 1, 'still a reader after 6.5 s with no request');
  clearInterval(timer);
  await new Promise((resolve) => setTimeout(resolve, 3500));
  t.equal(server.readerCount('cam.flv'), 0, 'the session ends once the reports stop');
});
