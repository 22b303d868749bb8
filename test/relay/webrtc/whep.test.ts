import t from 'tap';
import { captureStream, decodeLuma, matchedPsnr } from '../../helpers/picture.ts';
import { startTestRelayFor, syntheticConfig } from '../../helpers/relay.ts';
import { connectedWhepClient, endWebRtc, whepRequest } from '../../helpers/whep-client.ts';
import { MAX_RETRANSMISSIONS_PER_SECOND } from '../../../relay/webrtc/nack-responder.ts';
import type { ViewerStatus } from '../../../relay/app/status.ts';
import { waitFor } from '../../helpers/probe.ts';

/** The WebRTC viewers /stat.json lists for test.flv. */
async function webrtcViewers(baseUrl: string): Promise<ViewerStatus[]> {
  const stat = await (await fetch(`${baseUrl}/stat.json`)).json() as { streams: Array<{ name: string; viewerList: ViewerStatus[] }> };
  return stat.streams.find((candidate) => candidate.name === 'test.flv')!.viewerList.filter((viewer) => viewer.protocol === 'webrtc');
}

t.teardown(endWebRtc);

t.test('a WHEP viewer gets the stream\'s shared H.264 from a keyframe, decodable and the same picture as FLV', async (t) => {
  const relay = await startTestRelayFor(t, syntheticConfig({ rate: 10 }));
  const endpoint = `${relay.baseUrl}/test.flv/whep`;
  const flv = captureStream(`${relay.baseUrl}/test.flv`, 6000);
  // The FLV viewer starts the encoder; the WebRTC viewer joins a running stream and starts on the kept group.
  const encoder = relay.relay.outputs.get('test.flv')!.video!;
  for (let waited = 0; !encoder.track && waited < 15_000; waited += 100) await new Promise((resolve) => setTimeout(resolve, 100));
  // Beside it, a viewer that offers RTX as Chromium does and loses every 9th packet after SRTP (so a packet re-sent under
  // its own number would be a replay to it): it must get them back over RTX.
  const [client, repaired] = await Promise.all([connectedWhepClient(endpoint), connectedWhepClient(endpoint, { rtx: true, dropEvery: 9, maxDrops: 40 })]);
  t.equal(client.answer!.status, 201, client.answer!.body);
  t.match(client.answer!.headers.get('content-type'), /^application\/sdp/);
  t.match(client.answer!.headers.get('location'), /^\/test\.flv\/whep\/[A-Za-z0-9_-]{24}$/, 'an unguessable session URL');
  t.match(client.answer!.body, /a=sendonly/);
  t.match(client.answer!.body, /a=rtpmap:112 H264\/90000/, 'the format whose profile is the encoder\'s (High) is chosen');
  await Promise.all([client.waitForUnits(20, 8000), repaired.waitForUnits(20, 8000)]);
  t.ok(client.units[0]!.keyframe, 'the first access unit is a keyframe');
  t.ok(client.firstKeyframeMs! < 1500, `first keyframe ${Math.round(client.firstKeyframeMs!)} ms after the POST`);
  const stat = await (await fetch(`${relay.baseUrl}/stat.json`)).json() as { streams: Array<{ name: string; protocols: Record<string, { viewers: number }>; viewerList: Array<{ protocol: string }> }> };
  const stream = stat.streams.find((candidate) => candidate.name === 'test.flv')!;
  t.equal(stream.protocols.webrtc?.viewers, 2, '/stat.json counts both WebRTC viewers');
  t.ok(stream.viewerList.some((viewer) => viewer.protocol === 'webrtc'), 'and lists it with protocol webrtc');
  // Sender reports go out every second and the client answers each: the viewers' RTT follows from the echo.
  await waitFor(async () => (await webrtcViewers(relay.baseUrl)).every((viewer) => viewer.webrtc?.rttMs !== null), 8000, 'an RTT for both viewers');
  const listed = await webrtcViewers(relay.baseUrl);
  t.equal(listed.length, 2, 'both WebRTC viewers are listed');
  for (const viewer of listed) {
    const figures = viewer.webrtc!;
    t.same([figures.localCandidateType, figures.remoteCandidateType, figures.transport], ['host', 'host', 'udp'], 'the selected pair is host to host over UDP');
    t.ok(figures.rttMs! >= 0 && figures.rttMs! < 1000, `RTT ${figures.rttMs} ms on loopback`);
    // Guards the bytes of WebRTC viewers, which read 0 when taken from libdatachannel (it counts data channels only).
    t.ok(viewer.bytesSent > 0 && figures.packetsSent > 0, `${viewer.bytesSent} bytes in ${figures.packetsSent} packets sent`);
  }
  t.ok(client.reports > 0 && repaired.reports > 0, `the clients answered ${client.reports + repaired.reports} sender reports`);
  const requestsBefore = listed.reduce((sum, viewer) => sum + viewer.webrtc!.keyframeRequests, 0);
  t.ok(client.sendPli(), 'a PLI is sent');
  await waitFor(async () => (await webrtcViewers(relay.baseUrl)).reduce((sum, viewer) => sum + viewer.webrtc!.keyframeRequests, 0) === requestsBefore + 1, 3000, 'the PLI counted');
  t.pass('the viewer\'s PLI count rose by one');
  const decoded = await decodeLuma(client.annexB(20), 'h264', 320, 240);
  const reference = await decodeLuma(await flv, 'flv', 320, 240);
  t.equal(decoded.length, 20, `${decoded.length} frames decoded`);
  const scores = matchedPsnr(decoded, reference, 320);
  t.ok(Math.min(...scores) >= 40, `every frame matches the FLV viewer's picture (min PSNR ${Math.min(...scores).toFixed(1)} dB)`);
  t.equal(client.lost, 0, 'no packet lost on loopback');
  t.match(repaired.answer!.body, /a=rtpmap:113 RTX\/90000/i, 'RTX is answered for the chosen format');
  t.match(repaired.answer!.body, /a=fmtp:113 apt=112/);
  t.match(repaired.answer!.body, /a=ssrc-group:FID \d+ \d+/, 'the RTX stream is tied to the video\'s SSRC');
  t.ok(repaired.dropped >= 3, `${repaired.dropped} packets dropped on purpose`);
  t.equal(repaired.lost, 0, `every dropped packet came back (${repaired.nacked} NACKed, ${repaired.recovered} recovered over RTX)`);
  const repairedPicture = matchedPsnr(await decodeLuma(repaired.annexB(20), 'h264', 320, 240), reference, 320);
  t.equal(repairedPicture.length, 20, 'the viewer that lost packets decodes every frame');
  t.ok(Math.min(...repairedPicture) >= 40, `and the same picture (min PSNR ${Math.min(...repairedPicture).toFixed(1)} dB)`);

  // A NACK flood (every entry asking for 17 packets, thousands of compounds a second) is answered within a budget.
  const retransmitted = async (): Promise<number> => {
    const stat = await (await fetch(`${relay.baseUrl}/stat.json`)).json() as { streams: Array<{ name: string; protocols: Record<string, { retransmitted: number }> }> };
    return stat.streams.find((candidate) => candidate.name === 'test.flv')!.protocols.webrtc!.retransmitted;
  };
  const before = await retransmitted();
  const nacksBefore = (await webrtcViewers(relay.baseUrl)).reduce((sum, viewer) => sum + viewer.webrtc!.nacks, 0);
  const rssBefore = process.memoryUsage().rss;
  const floodStart = performance.now();
  const flood = Buffer.alloc(12 + 4 * 128);
  flood.writeUInt32BE(0x81cd0000 + 2 + 128, 0);
  flood.writeUInt32BE(repaired.ssrc!, 8);
  for (let entry = 0; entry < 128; entry++) flood.writeUInt32BE(((((repaired.highest! - 17 * entry) & 0xffff) << 16) | 0xffff) >>> 0, 12 + 4 * entry);
  for (let sent = 0; sent < 2000; sent++) {
    repaired.track.sendMessageBinary(flood);
    if (sent % 100 === 99) await new Promise((resolve) => setImmediate(resolve));
  }
  await new Promise((resolve) => setTimeout(resolve, 500));
  const floodSeconds = (performance.now() - floodStart) / 1000;
  const answered = await retransmitted() - before;
  const nacksAfter = (await webrtcViewers(relay.baseUrl)).reduce((sum, viewer) => sum + viewer.webrtc!.nacks, 0);
  t.ok(nacksAfter - nacksBefore >= 2000, `the viewers' NACK counts rose by ${nacksAfter - nacksBefore} under the flood`);
  t.ok(answered > 0 && answered <= MAX_RETRANSMISSIONS_PER_SECOND * (Math.ceil(floodSeconds) + 1),
    `${answered} retransmissions for 2000 NACKs of 512 packets in ${floodSeconds.toFixed(1)} s (at most ${MAX_RETRANSMISSIONS_PER_SECOND} a second)`);
  const grown = (process.memoryUsage().rss - rssBefore) / 1024 / 1024;
  t.ok(grown < 64, `memory grew ${grown.toFixed(1)} MB under the flood`);
  const received = repaired.units.length;
  await repaired.waitForUnits(received + 10, 8000);
  t.pass('the flooding viewer still gets the stream');
  await repaired.close();
  await client.close();
  const gone = await whepRequest(client.sessionUrl!, 'DELETE');
  t.equal(gone.status, 404, 'a deleted session is gone');
});
