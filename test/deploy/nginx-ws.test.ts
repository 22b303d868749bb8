import t from 'tap';
import { waitFor } from '../helpers/probe.ts';
import { startTestRelay, syntheticConfig } from '../helpers/relay.ts';
import { H264_HELLO, openWs } from '../helpers/ws-client.ts';
import { startNginx } from './nginx-peer.ts';

// Debian's nginx running deploy/nginx/relay.conf in front of a relay: /NAME.ws upgraded and passed through.

t.test('a WebSocket viewer through nginx: upgraded, frames flowing, counted at its own address (TrustProxy)', async (t) => {
  const relay = await startTestRelay(`TrustProxy 127.0.0.1\n${syntheticConfig()}`);
  t.teardown(() => relay.stop());
  const nginx = await startNginx(relay.port);
  t.teardown(() => nginx.stop());
  const url = `${nginx.baseUrl.replace('http', 'ws')}/test.flv.ws`;
  // A page served through nginx: its origin is nginx's address, which nginx passes on as the Host.
  const viewer = await openWs(url, H264_HELLO, { origin: nginx.baseUrl, headers: { 'X-Forwarded-For': '10.1.2.3' } });
  await waitFor(() => viewer.binaries.length >= 20, 20_000, '20 frames through nginx');
  t.match(viewer.texts[0], { type: 'hello', mode: 'raw' });
  t.match(viewer.texts[1], { type: 'config', width: 320, height: 240 });
  t.ok(viewer.binaries[0]![1]! & 1, 'starts on a keyframe');
  const stat = (await (await fetch(`${relay.baseUrl}/stat.json`)).json()) as { streams: Array<{ name: string; viewerList: Array<{ protocol: string; address: string }> }> };
  t.same(stat.streams.find((stream) => stream.name === 'test.flv')!.viewerList, [{ ...stat.streams.find((stream) => stream.name === 'test.flv')!.viewerList[0], protocol: 'ws', address: '10.1.2.3' }], 'one ws viewer, at the address nginx forwarded');
  t.equal(viewer.closed, undefined, 'still open');
  viewer.socket.close();
});
