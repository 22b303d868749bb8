import t from 'tap';
import { captureStream, decodeLuma, matchedPsnr } from '../../helpers/picture.ts';
import { startTestRelayFor, syntheticConfig } from '../../helpers/relay.ts';
import { endWebRtc, WhepClient, whepRequest } from '../../helpers/whep-client.ts';

t.teardown(endWebRtc);

t.test('a WHEP viewer gets the stream\'s shared H.264 from a keyframe, decodable and the same picture as FLV', async (t) => {
  const relay = await startTestRelayFor(t, syntheticConfig({ rate: 10 }));
  const endpoint = `${relay.baseUrl}/test.flv/whep`;
  const flv = captureStream(`${relay.baseUrl}/test.flv`, 6000);
  // The FLV viewer starts the encoder; the WebRTC viewer joins a running stream and starts on the kept group.
  const encoder = relay.relay.outputs.get('test.flv')!.video!;
  for (let waited = 0; !encoder.track && waited < 15_000; waited += 100) await new Promise((resolve) => setTimeout(resolve, 100));
  const client = await WhepClient.connect(endpoint);
  t.equal(client.answer!.status, 201, client.answer!.body);
  t.match(client.answer!.headers.get('content-type'), /^application\/sdp/);
  t.match(client.answer!.headers.get('location'), /^\/test\.flv\/whep\/[A-Za-z0-9_-]{24}$/, 'an unguessable session URL');
  t.match(client.answer!.body, /a=sendonly/);
  t.match(client.answer!.body, /a=rtpmap:112 H264\/90000/, 'the format whose profile is the encoder\'s (High) is chosen');
  await client.waitForUnits(20, 8000);
  t.ok(client.units[0]!.keyframe, 'the first access unit is a keyframe');
  t.ok(client.firstKeyframeMs! < 1500, `first keyframe ${Math.round(client.firstKeyframeMs!)} ms after the POST`);
  const stat = await (await fetch(`${relay.baseUrl}/stat.json`)).json() as { streams: Array<{ name: string; protocols: Record<string, { viewers: number }>; viewerList: Array<{ protocol: string }> }> };
  const stream = stat.streams.find((candidate) => candidate.name === 'test.flv')!;
  t.equal(stream.protocols.webrtc?.viewers, 1, '/stat.json counts the WebRTC viewer');
  t.ok(stream.viewerList.some((viewer) => viewer.protocol === 'webrtc'), 'and lists it with protocol webrtc');
  const decoded = await decodeLuma(client.annexB(20), 'h264', 320, 240);
  const reference = await decodeLuma(await flv, 'flv', 320, 240);
  t.equal(decoded.length, 20, `${decoded.length} frames decoded`);
  const scores = matchedPsnr(decoded, reference, 320);
  t.ok(Math.min(...scores) >= 40, `every frame matches the FLV viewer's picture (min PSNR ${Math.min(...scores).toFixed(1)} dB)`);
  t.equal(client.lost, 0, 'no packet lost on loopback');
  await client.close();
  const gone = await whepRequest(client.sessionUrl!, 'DELETE');
  t.equal(gone.status, 404, 'a deleted session is gone');
});
