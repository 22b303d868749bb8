import t from 'tap';
import { startTestRelayFor } from '../../helpers/relay.ts';
import { endWebRtc, makeOffer, WhepClient, whepRequest } from '../../helpers/whep-client.ts';
import { signViewerToken } from '../../../relay/auth/viewer-token.ts';
import { MAX_CONNECTING_SESSIONS } from '../../../relay/webrtc/edge.ts';

t.teardown(endWebRtc);

const SECRET = 'whep-test-secret-0123456789abcdefghij';
const CONFIG = `
ViewerTokenSecret ${SECRET}
WebRTCConnectTimeout 4
<Camera cam>
  Source testsrc://?size=160x120&rate=5
  OnDemand yes
</Camera>
<Stream open.flv>
  Feed cam
  VideoSize 160x120
  VideoBitRate 100
  MaxClients 100
</Stream>
<Stream door.flv>
  Feed cam
  VideoSize 160x120
  VideoBitRate 100
  Access token
</Stream>
<Stream one.flv>
  Feed cam
  VideoSize 160x120
  VideoBitRate 100
  MaxClients 1
</Stream>
<Stream off.flv>
  Feed cam
  VideoSize 160x120
  WebRTC no
</Stream>
<Stream cam.mjpg>
  Feed cam
</Stream>
`;

t.test('hostile and malformed offers get a clear 4xx, never a session', async (t) => {
  const relay = await startTestRelayFor(t, CONFIG);
  const url = `${relay.baseUrl}/open.flv/whep`;
  const good = await makeOffer();
  t.teardown(() => good.close());
  const withoutCredentials = good.sdp.split('\r\n').filter((line) => !line.startsWith('a=ice-ufrag') && !line.startsWith('a=ice-pwd')).join('\r\n');
  const audioOnly = good.sdp.replace(/m=video [^\r\n]*/, 'm=audio 9 UDP/TLS/RTP/SAVPF 111').replace(/a=rtpmap:\d+ H264[^\r\n]*/g, 'a=rtpmap:111 opus/48000/2');
  const vp8Only = good.sdp.replace(/a=rtpmap:(\d+) H264\/90000/g, 'a=rtpmap:$1 VP8/90000');
  const modeZero = good.sdp.replace(/packetization-mode=1/g, 'packetization-mode=0');
  const cases: Array<[string, string, number, RegExp]> = [
    ['not SDP', 'hello', 400, /not an SDP offer/],
    ['no video section', audioOnly, 400, /no video section/],
    ['only unsupported codecs', vp8Only, 400, /no H\.264 format in packetization-mode 1/],
    ['H.264 only in packetization-mode 0', modeZero, 400, /no H\.264 format/],
    ['no ICE credentials', withoutCredentials, 400, /no ICE credentials/],
    ['10,000 lines', `${good.sdp}${'a=x-filler:1\r\n'.repeat(10_000)}`, 413, /limited to 65536 bytes/],
    ['5,000 short lines', `${good.sdp}${'a=x\r\n'.repeat(5000)}`, 400, /more than 2000 lines/],
    ['a huge attribute value', good.sdp.replace('a=mid:0', `a=mid:0\r\na=x-huge:${'A'.repeat(20_000)}`), 400, /longer than 4096/],
  ];
  for (const [what, sdp, status, message] of cases) {
    const answer = await whepRequest(url, 'POST', sdp);
    t.equal(answer.status, status, what);
    t.match(answer.body, message, what);
  }
  const wrongType = await whepRequest(url, 'POST', good.sdp, 'text/plain');
  t.equal(wrongType.status, 415, 'an offer must be application/sdp');
  t.equal((await whepRequest(`${relay.baseUrl}/off.flv/whep`, 'POST', good.sdp)).status, 404, 'WebRTC no: not offered');
  t.equal((await whepRequest(`${relay.baseUrl}/cam.mjpg/whep`, 'POST', good.sdp)).status, 404, 'JPEG streams are not WebRTC streams');
  t.equal((await whepRequest(`${relay.baseUrl}/nothing/whep`, 'POST', good.sdp)).status, 404, 'no such stream');
  t.equal(relay.logs.filter((line) => / error /i.test(line)).length, 0, 'refusals are not errors in the log');
});

t.test('session URLs: a wrong one is 404 for PATCH and DELETE; trickle and CORS are answered', async (t) => {
  const relay = await startTestRelayFor(t, CONFIG);
  const client = await WhepClient.connect(`${relay.baseUrl}/open.flv/whep`);
  t.teardown(() => client.close());
  t.equal(client.answer!.status, 201);
  const session = client.sessionUrl!;
  const fragment = 'a=ice-ufrag:abcd\r\na=ice-pwd:abcdefghijklmnopqrstuvwx\r\nm=video 9 UDP/TLS/RTP/SAVPF 0\r\na=mid:0\r\na=candidate:1 1 UDP 2114977791 127.0.0.1 9999 typ host\r\n';
  t.equal((await whepRequest(session, 'PATCH', fragment, 'application/trickle-ice-sdpfrag')).status, 204, 'trickled candidate accepted');
  t.equal((await whepRequest(session, 'PATCH', fragment, 'application/sdp')).status, 415);
  const guessed = session.replace(/[^/]+$/, 'AAAAAAAAAAAAAAAAAAAAAAAA');
  t.equal((await whepRequest(guessed, 'PATCH', fragment, 'application/trickle-ice-sdpfrag')).status, 404, 'a guessed session id');
  t.equal((await whepRequest(guessed, 'DELETE')).status, 404);
  const otherStream = session.replace('/open.flv/', '/one.flv/');
  t.equal((await whepRequest(otherStream, 'DELETE')).status, 404, 'the right id under another stream');
  const preflight = await whepRequest(`${relay.baseUrl}/open.flv/whep`, 'OPTIONS');
  t.equal(preflight.status, 204);
  t.match(preflight.headers.get('access-control-allow-methods'), /POST/);
  t.match(preflight.headers.get('access-control-expose-headers'), /Location/);
  t.equal((await whepRequest(session, 'DELETE')).status, 200, 'the viewer ends its own session');
  t.equal((await whepRequest(session, 'DELETE')).status, 404, 'once');
});

t.test('viewer tokens are checked on the POST; MaxClients refuses with 503 before any ICE', async (t) => {
  const relay = await startTestRelayFor(t, CONFIG);
  const offer = await makeOffer();
  t.teardown(() => offer.close());
  const anonymous = await whepRequest(`${relay.baseUrl}/door.flv/whep`, 'POST', offer.sdp);
  const get = await fetch(`${relay.baseUrl}/door.flv`);
  await get.body?.cancel();
  t.ok(anonymous.status >= 400 && anonymous.status < 500, `no token: ${anonymous.status} ${anonymous.body}`);
  t.equal(anonymous.status, get.status, 'refused as a GET of the stream is');
  const token = signViewerToken(SECRET, 'door.flv', Math.floor(Date.now() / 1000) + 60);
  const wrong = signViewerToken(SECRET, 'open.flv', Math.floor(Date.now() / 1000) + 60);
  t.equal((await whepRequest(`${relay.baseUrl}/door.flv/whep?token=${wrong}`, 'POST', offer.sdp)).status, 403, 'another stream\'s token');
  const admitted = await WhepClient.connect(`${relay.baseUrl}/door.flv/whep?token=${token}`);
  t.teardown(() => admitted.close());
  t.equal(admitted.answer!.status, 201, 'a valid token');
  // The first viewer's offer has no candidates (to be trickled, never), so its session is surely still connecting when
  // the second comes (a test client that connects could fail on its own now and then, freeing the place first).
  const silent = offer.sdp.split('\r\n').filter((line) => !line.startsWith('a=candidate') && !line.startsWith('a=end-of-candidates')).join('\r\n');
  const first = await whepRequest(`${relay.baseUrl}/one.flv/whep`, 'POST', silent);
  t.equal(first.status, 201);
  const second = await whepRequest(`${relay.baseUrl}/one.flv/whep`, 'POST', offer.sdp);
  t.equal(second.status, 503, 'the stream is full (MaxClients 1), counting the connecting session');
  t.match(second.body, /full/);
});

t.test(`offers that never complete ICE are bounded (${MAX_CONNECTING_SESSIONS} connecting) and time out, leaving nothing`, async (t) => {
  const relay = await startTestRelayFor(t, CONFIG);
  const offer = await makeOffer();
  // The offering peer is closed at once and its candidates are left out (to be trickled, never): ICE waits, unanswered.
  offer.close();
  const silent = offer.sdp.split('\r\n').filter((line) => !line.startsWith('a=candidate') && !line.startsWith('a=end-of-candidates')).join('\r\n');
  const answers = await Promise.all(Array.from({ length: 100 }, () => whepRequest(`${relay.baseUrl}/open.flv/whep`, 'POST', silent)));
  const statuses = answers.map((answer) => answer.status);
  const viewers = (): number => relay.relay.protocolStats('open.flv').webrtc?.viewers ?? 0;
  // Under load the first sessions may time out while the last offers are read, freeing places: the bound holds at
  // every moment, so some offers are refused and never more than the bound are connecting.
  t.ok(viewers() <= MAX_CONNECTING_SESSIONS, `${viewers()} sessions connecting`);
  t.ok(statuses.filter((status) => status === 503).length >= 1, `${statuses.filter((status) => status === 503).length} offers refused with 503`);
  t.equal(statuses.filter((status) => status !== 503 && status !== 201).length, 0, 'every offer answered 201 or 503');
  for (let waited = 0; viewers() > 0 && waited < 10_000; waited += 250) await new Promise((resolve) => setTimeout(resolve, 250));
  t.equal(viewers(), 0, 'every session ended by WebRTCConnectTimeout');
  const again = await WhepClient.connect(`${relay.baseUrl}/open.flv/whep`);
  t.teardown(() => again.close());
  t.equal(again.answer!.status, 201, 'a real viewer is served afterwards');
  await again.waitForUnits(3, 15_000);
  t.ok(again.units[0]!.keyframe, 'and gets video from a keyframe');
});
