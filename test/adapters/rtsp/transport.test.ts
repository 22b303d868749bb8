import t from 'tap';
import { parseSession, parseTransportReply, transportRequest } from '../../../adapters/rtsp/transport.ts';

t.test('Transport requests and replies', async (t) => {
  t.equal(transportRequest(true), 'RTP/AVP/TCP;unicast;interleaved=0-1');
  t.equal(transportRequest(false, [50000, 50001]), 'RTP/AVP;unicast;client_port=50000-50001');
  t.same(parseTransportReply('RTP/AVP/TCP;unicast;interleaved=2-3;ssrc=1234ABCD;mode="PLAY"'), { tcp: true, interleaved: [2, 3], serverPorts: undefined });
  t.same(parseTransportReply('RTP/AVP;unicast;client_port=50000-50001;server_port=6970-6971'), { tcp: false, interleaved: undefined, serverPorts: [6970, 6971] });
  t.same(parseTransportReply('RTP/AVP/UDP;unicast;server_port=6970').serverPorts, [6970, 6971], 'a single port implies the next for RTCP');
  t.same(parseTransportReply('RTP/AVP/TCP;interleaved=300-301').interleaved, undefined, 'channels past 255 are not believed');
  for (const bad of [undefined, '', 'RAW/RAW/UDP;unicast', 'garbage']) t.throws(() => parseTransportReply(bad), { code: 'PROTOCOL' }, String(bad));
});

t.test('Session headers', async (t) => {
  t.same(parseSession('12345678;timeout=30'), { id: '12345678', timeoutSeconds: 30 });
  t.same(parseSession('ABCDEF'), { id: 'ABCDEF', timeoutSeconds: 60 }, 'the RFC default timeout');
  t.same(parseSession('x; timeout=0'), { id: 'x', timeoutSeconds: 60 }, 'a zero timeout is ignored');
  for (const bad of [undefined, '', ';timeout=5', 'a b', `${'x'.repeat(129)}`]) t.throws(() => parseSession(bad), { code: 'PROTOCOL' }, String(bad));
});
