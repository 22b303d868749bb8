import t from 'tap';
import { RtspHeaders } from '../../../media/rtsp/message.ts';
import { parseTarget } from '../../../relay/rtsp/methods.ts';
import { readRequest, sessionIdOf } from '../../../relay/rtsp/request.ts';
import { buildSdp } from '../../../media/rtsp/sdp-write.ts';
import { chooseTransport } from '../../../relay/rtsp/transport.ts';

const message = (startLine: string, headers: Array<[string, string]>) => ({ startLine, headers: new RtspHeaders(headers), body: Buffer.alloc(0) });

t.test('requests: line, CSeq, session id', async (t) => {
  const request = readRequest(message('PLAY rtsp://h/cam.flv RTSP/1.0', [['CSeq', '7'], ['Session', 'abc123;timeout=60']]));
  if ('problem' in request) throw new Error(request.problem);
  t.same([request.method, request.uri, request.cseq], ['PLAY', 'rtsp://h/cam.flv', '7']);
  t.equal(sessionIdOf(request), 'abc123');
  t.same(readRequest(message('PLAY rtsp://h/cam.flv HTTP/1.1', [['CSeq', '1']])), { problem: 'malformed request line', fatal: true });
  t.same(readRequest(message('PLAY rtsp://h/cam.flv RTSP/1.0', [])), { problem: 'missing or malformed CSeq', fatal: false });
  t.same(readRequest(message('PLAY rtsp://h/cam.flv RTSP/1.0', [['CSeq', '1e3']])), { problem: 'missing or malformed CSeq', fatal: false });
});

t.test('a session id with a stray CR names no session', async (t) => {
  // Regression: header splitting on LF left a CR inside the Session value, which was taken as part of the id.
  const request = readRequest(message('PLAY rtsp://h/cam.flv RTSP/1.0', [['CSeq', '1'], ['Session', 'abc\rdef']]));
  if ('problem' in request) throw new Error(request.problem);
  t.equal(sessionIdOf(request), '');
});

t.test('targets: stream name and track from absolute URLs and paths', async (t) => {
  t.same(parseTarget('rtsp://host:8554/cam.flv'), { name: 'cam.flv', track: '' });
  t.same(parseTarget('rtsp://host:8554/cam.flv/trackID=0?x=1'), { name: 'cam.flv', track: 'trackID=0' });
  t.same(parseTarget('rtsp://user:pw@host/cam.flv/'), { name: 'cam.flv', track: '' });
  t.same(parseTarget('/cam.mjpg/trackID=0'), { name: 'cam.mjpg', track: 'trackID=0' });
  t.same(parseTarget('rtsp://host/../../etc/passwd'), { name: 'etc', track: 'passwd' }, 'dot segments are resolved away by URL parsing; names are looked up, never opened');
  t.equal(parseTarget('*'), undefined);
  t.equal(parseTarget('rtsp://'), undefined);
  t.equal(parseTarget('http:cam'), undefined);
});

t.test('transports: the first alternative the server serves', async (t) => {
  const cases: Array<[string | undefined, boolean, unknown]> = [
    ['RTP/AVP/TCP;unicast;interleaved=0-1', true, { kind: 'tcp', channels: [0, 1] }],
    ['RTP/AVP/TCP;unicast;interleaved=4', true, { kind: 'tcp', channels: [4, 5] }],
    ['RTP/AVP/TCP;unicast', true, { kind: 'tcp', channels: undefined }],
    ['RTP/AVP;unicast;client_port=5000-5001', true, { kind: 'udp', clientPorts: [5000, 5001] }],
    ['RTP/AVP/UDP;unicast;client_port=5000', true, { kind: 'udp', clientPorts: [5000, 5001] }],
    ['RTP/AVP;unicast;client_port=5000-5001', false, undefined],
    ['RTP/AVP;unicast;client_port=5000-5001,RTP/AVP/TCP;unicast;interleaved=2-3', false, { kind: 'tcp', channels: [2, 3] }],
    ['RTP/AVP;multicast;client_port=5000-5001', true, undefined],
    ['RTP/AVP;unicast', true, undefined],
    ['RTP/AVP;unicast;client_port=0-1', true, undefined],
    ['RTP/AVP;unicast;client_port=65535-65536', true, undefined],
    ['RTP/AVP/TCP;interleaved=256-257', true, undefined],
    ['RTP/SAVP;unicast;client_port=5000-5001', true, undefined],
    ['', true, undefined],
    [undefined, true, undefined],
    [`${'x,'.repeat(100)}RTP/AVP/TCP`, true, undefined],
  ];
  for (const [header, udp, expected] of cases) t.same(chooseTransport(header, udp), expected, `${header} (udp ${udp})`);
});

t.test('SDP: origin address family, control attributes, CRLF lines', async (t) => {
  const mapped = buildSdp({ name: 'cam.flv', serverAddress: '::ffff:10.0.0.5', mediaLines: ['m=video 0 RTP/AVP 26', 'a=control:trackID=0'] });
  t.match(mapped, /^o=- \d+ 1 IN IP4 10\.0\.0\.5\r$/m, 'an IPv4 peer of a dual-stack socket');
  t.match(buildSdp({ name: 'x', serverAddress: '::1', mediaLines: [] }), /^o=- \d+ 1 IN IP6 ::1\r$/m);
  t.match(mapped, /^v=0\r\n/);
  t.match(mapped, /\r\na=control:\*\r\nm=video 0 RTP\/AVP 26\r\na=control:trackID=0\r\n$/);
});
