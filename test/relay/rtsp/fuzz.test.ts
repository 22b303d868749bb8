import { connect } from 'node:net';
import t from 'tap';
import { ProtocolError } from '../../../media/errors.ts';
import { InterleavedDemuxer, MAX_BUFFERED_BYTES } from '../../../media/rtsp/interleaved.ts';
import { parseTarget } from '../../../relay/rtsp/methods.ts';
import { readRequest, sessionIdOf } from '../../../relay/rtsp/request.ts';
import { chooseTransport } from '../../../relay/rtsp/transport.ts';
import { prng } from '../../helpers/prng.ts';
import { startTestEncodedSource } from '../../helpers/encoded-source.ts';
import { h264RtpPayloader } from '../../../relay/rtsp/rtp-payloaders.ts';
import { countingSource, LIMITS, startServer, TestRtspClient } from './fixtures.ts';

const URL_BASE = 'rtsp://127.0.0.1:8554/cam.flv';
/** Valid requests to mutate: every method the server knows, with the headers it reads. */
const CORPUS = [
  'OPTIONS * RTSP/1.0\r\nCSeq: 1\r\n\r\n',
  `DESCRIBE ${URL_BASE} RTSP/1.0\r\nCSeq: 2\r\nAccept: application/sdp\r\n\r\n`,
  `SETUP ${URL_BASE}/trackID=0 RTSP/1.0\r\nCSeq: 3\r\nTransport: RTP/AVP/TCP;unicast;interleaved=0-1\r\n\r\n`,
  `SETUP ${URL_BASE}/trackID=0 RTSP/1.0\r\nCSeq: 3\r\nTransport: RTP/AVP;unicast;client_port=5000-5001,RTP/AVP/TCP;unicast\r\n\r\n`,
  `PLAY ${URL_BASE} RTSP/1.0\r\nCSeq: 4\r\nSession: 0123456789abcdef\r\nRange: npt=0.000-\r\n\r\n`,
  `PAUSE ${URL_BASE} RTSP/1.0\r\nCSeq: 5\r\nSession: 0123456789abcdef;timeout=60\r\n\r\n`,
  `GET_PARAMETER ${URL_BASE} RTSP/1.0\r\nCSeq: 6\r\nSession: 0123456789abcdef\r\nContent-Length: 4\r\n\r\nping`,
  `TEARDOWN ${URL_BASE} RTSP/1.0\r\nCSeq: 7\r\nSession: 0123456789abcdef\r\n\r\n`,
  '$\x01\x00\x08\x81\xc9\x00\x01\x00\x00\x00\x01',
];
const TOKENS = ['\r\n', '\r\n\r\n', '\n', '$', ':', ';', ',', '-', '=', '/', '..', '%00', '\0', 'Content-Length: 99999999', 'Content-Length: -1',
  'interleaved=0-999', 'client_port=65535-65536', 'multicast', 'RTSP/1.0', 'RTSP/9.9', ' ', '\t', 'ÿ', '\u2028', 'A'.repeat(300)];

/** One seeded input: a mutated corpus entry, several glued, or random bytes. */
function makeInput(random: () => number): Buffer {
  const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)]!;
  const kind = random();
  if (kind < 0.1) return Buffer.from(Array.from({ length: Math.floor(random() * 400) }, () => Math.floor(random() * 256)));
  let text = kind < 0.3 ? Array.from({ length: 1 + Math.floor(random() * 4) }, () => pick(CORPUS)).join('') : pick(CORPUS);
  const edits = 1 + Math.floor(random() * 6);
  for (let i = 0; i < edits; i++) {
    const at = Math.floor(random() * (text.length + 1));
    const action = random();
    if (action < 0.35) text = text.slice(0, at) + pick(TOKENS) + text.slice(at);
    else if (action < 0.6) text = text.slice(0, at) + text.slice(at + 1 + Math.floor(random() * 20));
    else if (action < 0.8) text = text.slice(0, at) + String.fromCharCode(Math.floor(random() * 256)) + text.slice(at + 1);
    else text = text.slice(0, at);
  }
  return Buffer.from(text, 'latin1');
}

t.test('100,000 seeded inputs through the request parser: clear errors, bounded memory, safe targets', async (t) => {
  const seed = 13_2326;
  const random = prng(seed);
  let requests = 0;
  let rejected = 0;
  let problems = 0;
  for (let i = 0; i < 100_000; i++) {
    const input = makeInput(random);
    const demuxer = new InterleavedDemuxer();
    try {
      // Arrives in random pieces, as TCP may cut it.
      for (let at = 0; at < input.length; ) {
        const size = 1 + Math.floor(random() * 64);
        for (const item of demuxer.push(input.subarray(at, at + size))) {
          if (item.kind !== 'message') continue;
          const request = readRequest(item.message);
          if ('problem' in request) {
            problems++;
            continue;
          }
          requests++;
          const target = parseTarget(request.uri);
          if (target && !/^[^/?#]+$/.test(target.name)) throw new Error(`input ${i}: unsafe stream name ${JSON.stringify(target.name)}`);
          const choice = chooseTransport(request.headers.get('Transport'), true);
          if (choice?.kind === 'tcp' && choice.channels && choice.channels.some((channel) => channel < 0 || channel > 255)) throw new Error(`input ${i}: channel out of range`);
          if (choice?.kind === 'udp' && choice.clientPorts.some((port) => port < 1 || port > 65535)) throw new Error(`input ${i}: port out of range`);
          const session = sessionIdOf(request);
          if (session !== undefined && !/^[\w$\-.+]{0,128}$/.test(session)) throw new Error(`input ${i}: session id with characters no id has`);
        }
        at += size;
        if (demuxer.bufferedBytes > MAX_BUFFERED_BYTES) throw new Error(`input ${i}: ${demuxer.bufferedBytes} bytes buffered`);
      }
    } catch (error) {
      if (!(error instanceof ProtocolError) || error.code !== 'PROTOCOL') throw new Error(`seed ${seed}, input ${i}: ${(error as Error).message}`);
      rejected++;
    }
  }
  t.ok(requests > 10_000, `${requests} inputs parsed as requests`);
  t.ok(rejected > 1_000, `${rejected} rejected as malformed`);
  t.ok(problems > 1_000, `${problems} answered 400 without closing`);
});

t.test('a live server takes 300 seeded hostile connections and still serves', async (t) => {
  const encoded = startTestEncodedSource({ size: '160x120', rate: 10, gop: 10 });
  const server = await startServer({ idleTimeoutMs: 1000 });
  server.mount('cam.flv', h264RtpPayloader(countingSource(encoded.hub)), LIMITS);
  t.teardown(async () => {
    await server.close();
    encoded.stop();
  });
  const random = prng(2326);
  for (let batch = 0; batch < 10; batch++) {
    await Promise.all(Array.from({ length: 30 }, () => new Promise<void>((resolve) => {
      const input = Buffer.from(makeInput(random).toString('latin1').replaceAll('8554', String(server.port)), 'latin1');
      const socket = connect(server.port, '127.0.0.1', () => socket.end(input));
      socket.on('data', () => {});
      socket.on('error', () => resolve());
      socket.on('close', () => resolve());
      setTimeout(() => socket.destroy(), 3000).unref();
    })));
  }
  const client = await TestRtspClient.connect(server.port);
  t.teardown(() => client.close());
  t.equal((await client.request('OPTIONS', '*')).status, 200);
  t.equal((await client.request('DESCRIBE', `rtsp://127.0.0.1:${server.port}/cam.flv`)).status, 200);
});
