// RTSP reflection and amplification, measured: bytes and packets the RTSP server sends to a UDP port that never asked
// (SETUP naming it, PLAY, close), and what pipelined PLAY+PAUSE pairs return over UDP and TCP, against the stream's rate.
// Run: node --import tsx bench/rtsp-attacks.ts   (640x480 H.264 at 25 fps, keyframe every 2 s; about 40 s)
import { silentLogger } from '../lib/log.ts';
import { RtspServer } from '../relay/rtsp/server.ts';
import { h264RtpPayloader } from '../relay/rtsp/rtp-payloaders.ts';
import { startTestEncodedSource } from '../test/helpers/encoded-source.ts';
import { countingUdpPort, LIMITS, playOverTcp, TestRtspClient } from '../test/relay/rtsp/fixtures.ts';

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const encoded = startTestEncodedSource({ size: '640x480', rate: 25, gop: 50 });
const server = await RtspServer.start({ host: '127.0.0.1', port: 0, udpPortRange: [48000, 48999], log: silentLogger });
// One mount per attack (a reader left by one must not change the next), and a reference reader of the same encoder.
for (const name of ['silent.flv', 'udp.flv', 'tcp.flv', 'ref.flv']) server.mount(name, h264RtpPayloader(encoded.hub), LIMITS);
let url = '';

function pairs(session: string, count: number): string {
  let text = '';
  for (let i = 0; i < count; i++) text += `PLAY ${url} RTSP/1.0\r\nCSeq: ${2 * i + 10}\r\nSession: ${session}\r\n\r\nPAUSE ${url} RTSP/1.0\r\nCSeq: ${2 * i + 11}\r\nSession: ${session}\r\n\r\n`;
  return text;
}

const reference = await playOverTcp(server.port, 'ref.flv');
await sleep(3000);
const referenceBytes = (): number => reference.client.packets.reduce((sum, packet) => sum + packet.bytes.length, 0);
const before = referenceBytes();
await sleep(4000);
const rate = (referenceBytes() - before) / 4;
console.log(`stream rate: ${Math.round(rate)} B/s`);

// 1. A port that never speaks: SETUP naming it, PLAY, close the connection; 10 s of listening.
{
  url = `rtsp://127.0.0.1:${server.port}/silent.flv`;
  const silent = await countingUdpPort();
  const client = await TestRtspClient.connect(server.port);
  const setup = await client.request('SETUP', `${url}/trackID=0`, { Transport: `RTP/AVP;unicast;client_port=${silent.port}-${silent.port + 1}` });
  const session = setup.headers.get('Session')!.split(';')[0]!;
  await client.request('PLAY', url, { Session: session });
  client.close();
  await sleep(10_000);
  console.log(`silent port, 10 s after SETUP+PLAY+close: ${silent.bytes()} bytes in ${silent.packets()} packets`);
  silent.socket.close();
}

// 2. 1,000 pipelined PLAY+PAUSE pairs on a UDP session whose port punched once; 6 s of listening.
{
  url = `rtsp://127.0.0.1:${server.port}/udp.flv`;
  const target = await countingUdpPort();
  const client = await TestRtspClient.connect(server.port);
  const setup = await client.request('SETUP', `${url}/trackID=0`, { Transport: `RTP/AVP;unicast;client_port=${target.port}-${target.port + 1}` });
  const session = setup.headers.get('Session')!.split(';')[0]!;
  const serverPort = Number(/server_port=(\d+)/.exec(setup.headers.get('Transport') ?? '')![1]);
  target.socket.send(Buffer.alloc(12), serverPort, '127.0.0.1');
  await sleep(300); // the punch is in before the flood
  const text = pairs(session, 1000);
  client.socket.write(text);
  await sleep(6000);
  console.log(`UDP, 1,000 PLAY+PAUSE pairs (${text.length} bytes of requests): ${target.bytes()} bytes in ${target.packets()} packets in 6 s (the stream: ${Math.round(rate * 6)})`);
  client.close();
  target.socket.close();
}

// 3. 2,500 pipelined PLAY+PAUSE pairs (5,000 requests) over TCP; 6 s of reading.
{
  url = `rtsp://127.0.0.1:${server.port}/tcp.flv`;
  const client = await TestRtspClient.connect(server.port);
  const setup = await client.request('SETUP', `${url}/trackID=0`, { Transport: 'RTP/AVP/TCP;unicast;interleaved=0-1' });
  const session = setup.headers.get('Session')!.split(';')[0]!;
  client.socket.write(pairs(session, 2500));
  await sleep(6000);
  const bytes = client.packets.reduce((sum, packet) => sum + packet.bytes.length, 0);
  console.log(`TCP, 5,000 requests: ${bytes} bytes in ${client.packets.length} packets in 6 s (the stream: ${Math.round(rate * 6)})`);
  client.close();
}

reference.client.close();
await server.close();
encoded.stop();
