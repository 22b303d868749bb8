import { connect, type Socket } from 'node:net';
import t from 'tap';
import WebSocket from 'ws';
import { signViewerToken } from '../../../relay/auth/viewer-token.ts';
import { waitFor } from '../../helpers/probe.ts';
import { startTestRelayFor } from '../../helpers/relay.ts';
import { H264_HELLO, openWs, upgradeStatus, type WsCapture } from '../../helpers/ws-client.ts';

const SECRET = 'a-websocket-test-secret-of-32-characters-or-more';
const relay = await startTestRelayFor(t, `
ViewerTokenSecret ${SECRET}
RequestHeaderTimeout 1
WebSocketAllowedOrigins https://allowed.example
<Camera test>
  Source testsrc://?size=320x240&rate=10
</Camera>
<Stream test.flv>
  Feed test
  VideoFrameRate 10
  VideoBitRate 300
</Stream>
<Stream secret.flv>
  Feed test
  VideoFrameRate 10
  VideoBitRate 300
  Access token
</Stream>
<Stream other.flv>
  Feed test
  VideoFrameRate 10
  VideoBitRate 300
  Access token
</Stream>
<Stream mute.flv>
  Feed test
  VideoFrameRate 10
  VideoBitRate 300
  Audio no
</Stream>
<Stream one.flv>
  Feed test
  VideoFrameRate 10
  VideoBitRate 300
  MaxClients 1
</Stream>
`);
const ws = relay.baseUrl.replace('http', 'ws');
const inAnHour = (): number => Math.floor(Date.now() / 1000) + 3600;

/** Sends a raw upgrade request and resolves with the status line and headers the relay answers. */
function rawUpgrade(headers: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(relay.port, '127.0.0.1', () => socket.write(`GET /test.flv.ws HTTP/1.1\r\nHost: 127.0.0.1\r\n${headers}\r\n`));
    let answer = '';
    socket.on('data', (chunk) => {
      answer += chunk.toString('latin1');
      if (answer.includes('\r\n\r\n')) socket.destroy();
    });
    socket.on('close', () => resolve(answer));
    socket.on('error', reject);
    setTimeout(() => socket.destroy(), 5000).unref();
  });
}

function closed(capture: WsCapture, ms = 8000): Promise<{ code: number; reason: string }> {
  return waitFor(() => capture.closed !== undefined, ms, 'the relay to close the WebSocket').then(() => capture.closed!);
}

t.test('bad handshakes get an HTTP answer, never a crash', async (t) => {
  const key = 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n';
  const wrongVersion = await rawUpgrade(`Upgrade: websocket\r\nConnection: Upgrade\r\n${key}Sec-WebSocket-Version: 7\r\n`);
  t.match(wrongVersion, /^HTTP\/1\.1 400 /, 'an unknown protocol version is refused');
  t.match(wrongVersion, /Sec-WebSocket-Version: 13, 8/i, 'with the versions spoken');
  t.match(await rawUpgrade('Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n'), /^HTTP\/1\.1 400 /, 'a missing key is refused');
  t.match(await rawUpgrade(`Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: short\r\nSec-WebSocket-Version: 13\r\n`), /^HTTP\/1\.1 400 /, 'a malformed key is refused');
  t.match(await rawUpgrade(`Upgrade: websocket\r\nConnection: Upgrade\r\n${key}Sec-WebSocket-Version: 13\r\n`), /^HTTP\/1\.1 101 /, 'a good one is switched');
});

t.test('bad hellos, huge and flooding clients are closed with a reason', async (t) => {
  const notJson = await openWs(`${ws}/test.flv.ws`, 'hello there');
  t.match(await closed(notJson), { code: 1007 });
  t.match(notJson.texts[0], { type: 'error', message: /not JSON/ });
  const version2 = await openWs(`${ws}/test.flv.ws`, { ...H264_HELLO, version: 2 });
  t.match(await closed(version2), { code: 1008, reason: /version 2/ });
  const noMode = await openWs(`${ws}/test.flv.ws`, { version: 1, codecs: ['avc1'] });
  t.match(await closed(noMode), { code: 1008, reason: /"mode"/ });
  const noCodecs = await openWs(`${ws}/test.flv.ws`, { version: 1, mode: 'raw' });
  t.match(await closed(noCodecs), { code: 1008, reason: /"codecs"/ });
  const binary = await openWs(`${ws}/test.flv.ws`, undefined);
  binary.socket.send(Buffer.from(JSON.stringify(H264_HELLO)));
  t.match(await closed(binary), { code: 1003 });
  const vp8Only = await openWs(`${ws}/test.flv.ws`, { version: 1, mode: 'raw', codecs: ['vp8', 'opus'] });
  t.match(await closed(vp8Only), { code: 1003 });
  t.match(vp8Only.texts.at(-1), { type: 'error', message: /H\.264/ }, 'a hello for a codec the stream lacks');
  const audioNotBoolean = await openWs(`${ws}/mute.flv.ws`, { ...H264_HELLO, audio: 'yes' });
  t.match(await closed(audioNotBoolean), { code: 1008, reason: /"audio"/ });

  // Sound asked of a stream without it (Audio no, or a silent camera): video only, and the answer says why.
  const soundHello = { ...H264_HELLO, codecs: ['avc1.64001f', 'mp4a.40.2'], audio: true };
  const noSoundStream = await openWs(`${ws}/mute.flv.ws`, soundHello);
  const silentCamera = await openWs(`${ws}/test.flv.ws`, soundHello);
  await waitFor(() => noSoundStream.binaries.length >= 5 && silentCamera.binaries.length >= 5, 20_000, 'video on both');
  t.match(noSoundStream.texts[0], { type: 'hello', audio: null, audioNote: /carries no sound \(Audio no\)/ });
  t.match(silentCamera.texts[0], { type: 'hello', audio: null, audioNote: /no sound from the camera/ });
  for (const capture of [noSoundStream, silentCamera]) {
    t.match(capture.texts[1], { type: 'config', audio: null });
    t.ok(capture.binaries.every((message) => message[0] === 1), 'video units only');
    t.equal(capture.closed, undefined, 'and no error');
    capture.socket.close();
  }

  const huge = await openWs(`${ws}/test.flv.ws`, 'x'.repeat(1024 * 1024));
  t.match(await closed(huge), { code: 1009 }, 'a 1 MB message: message too big');
  const hugeInParts = await openWs(`${ws}/test.flv.ws`, undefined);
  for (let i = 0; i < 10; i++) hugeInParts.socket.send('y'.repeat(1000), { fin: false });
  t.match(await closed(hugeInParts), { code: 1009 }, 'fragments adding up past 4 KB: message too big');

  // A hello in three fragments is one message: it plays.
  const fragmented = await openWs(`${ws}/test.flv.ws`, undefined);
  const text = JSON.stringify(H264_HELLO);
  fragmented.socket.send(text.slice(0, 10), { fin: false });
  fragmented.socket.send(text.slice(10, 20), { fin: false });
  fragmented.socket.send(text.slice(20), { fin: true });
  await waitFor(() => fragmented.binaries.length > 0, 10_000, 'video after a fragmented hello');
  t.match(fragmented.texts[0], { type: 'hello', mode: 'raw' });
  fragmented.socket.close();

  const flood = await openWs(`${ws}/test.flv.ws`, H264_HELLO);
  for (let i = 0; i < 200; i++) flood.socket.send('{}');
  t.match(await closed(flood), { code: 1008, reason: /messages a second/ }, 'a message flood');
  const pings = await openWs(`${ws}/test.flv.ws`, H264_HELLO);
  for (let i = 0; i < 200; i++) pings.socket.ping();
  t.match(await closed(pings), { code: 1008 }, 'a ping flood');

  const silent = await openWs(`${ws}/test.flv.ws`, undefined);
  t.match(await closed(silent, 10_000), { code: 1008, reason: /no hello/ }, 'no hello within 5 s');
  const stat = (await (await fetch(`${relay.baseUrl}/stat.json`)).json()) as { streams: Array<{ name: string; protocols: Record<string, Record<string, number>> }> };
  t.match(stat.streams.find((stream) => stream.name === 'test.flv')!.protocols.ws, { badHello: 5, codec: 1, flood: 2, helloTimeout: 1 }, 'refusals counted by reason');
  t.notMatch(relay.logs.join('\n'), /error/i, 'nothing logged as an error');
});

t.test('origins: the relay\'s own pages, listed origins and non-browser clients only', async (t) => {
  t.equal(await upgradeStatus(`${ws}/test.flv.ws`, { origin: 'https://evil.example' }), 403, 'another site');
  t.equal(await upgradeStatus(`${ws}/test.flv.ws`, { origin: 'null' }), 403, 'an opaque origin');
  t.equal(await upgradeStatus(`${ws}/test.flv.ws`, { origin: 'https://allowed.example' }), undefined, 'a listed origin');
  t.equal(await upgradeStatus(`${ws}/test.flv.ws`, { origin: relay.baseUrl }), undefined, 'the relay\'s own pages');
  t.equal(await upgradeStatus(`${ws}/test.flv.ws`), undefined, 'no Origin: not a browser page');
});

t.test('tokens on the upgrade URL are checked for that stream; admission applies', async (t) => {
  const overHttp = (await fetch(`${relay.baseUrl}/secret.flv`)).status;
  t.ok(overHttp === 401 || overHttp === 403, `HTTP without a token: ${overHttp}`);
  t.equal(await upgradeStatus(`${ws}/secret.flv.ws`), overHttp, 'no token: refused as over HTTP');
  t.equal(await upgradeStatus(`${ws}/secret.flv.ws?token=${signViewerToken(SECRET, 'other.flv', inAnHour())}`), 403, 'a token for another stream');
  t.equal(await upgradeStatus(`${ws}/secret.flv.ws?token=${signViewerToken(SECRET, 'secret.flv', inAnHour())}`), undefined, 'its own token');
  const first = await openWs(`${ws}/one.flv.ws`, H264_HELLO);
  t.equal(await upgradeStatus(`${ws}/one.flv.ws`), 503, 'MaxClients 1: the second is refused');
  first.socket.close();
  await waitFor(async () => (await upgradeStatus(`${ws}/one.flv.ws`)) === undefined, 5000, 'the slot freed');
});

t.test('1,000 half-open upgrades are timed out while a viewer plays on', async (t) => {
  const viewer = await openWs(`${ws}/test.flv.ws`, H264_HELLO);
  const sockets: Socket[] = [];
  let closedByRelay = 0;
  const opened = Date.now();
  // In batches, each waiting for its connects: 1,000 SYNs at once overflow the listen backlog and retry for seconds.
  for (let batch = 0; batch < 10; batch++) {
    await Promise.all(Array.from({ length: 100 }, () => new Promise<void>((resolve) => {
      const socket = connect(relay.port, '127.0.0.1', () => {
        socket.write('GET /test.flv.ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n');
        resolve();
      });
      socket.on('error', () => resolve());
      socket.resume(); // reads the relay's 408 and its end of the connection
      socket.on('close', () => closedByRelay++);
      sockets.push(socket);
    })));
  }
  t.comment(`1,000 opened in ${Date.now() - opened} ms`);
  await waitFor(() => closedByRelay === 1000, 15_000, 'every half-open upgrade closed');
  t.ok(Date.now() - opened < 15_000, `all 1,000 closed by the relay ${Date.now() - opened} ms after the first was opened`);
  const before = viewer.binaries.length;
  await waitFor(() => viewer.binaries.length > before + 5, 5000, 'the viewer still getting frames');
  t.notOk(viewer.closed, 'the viewer plays on');
  viewer.socket.close();
});

t.test('a WebSocket viewer outlives RequestHeaderTimeout', async (t) => {
  // Guards against upgraded connections being closed by the accept deadline (twice RequestHeaderTimeout) as silent ones.
  const viewer = await openWs(`${ws}/test.flv.ws`, H264_HELLO);
  await new Promise((resolve) => setTimeout(resolve, 3500));
  t.equal(viewer.closed, undefined, 'still open after 3.5 s with RequestHeaderTimeout 1');
  const before = viewer.binaries.length;
  await waitFor(() => viewer.binaries.length > before + 3, 5000, 'frames still coming');
  viewer.socket.close();
});
