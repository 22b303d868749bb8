import t from 'tap';
import { startTestRelayFor, syntheticConfig } from '../../helpers/relay.ts';
import { endWebRtc, WhepClient, connectedWhepClient } from '../../helpers/whep-client.ts';

t.teardown(endWebRtc);

/** Resolves once `client` has a keyframe whose RTP timestamp is older than a unit it received before it: a resent group. */
async function resentKeyframe(client: WhepClient, from: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const newest = Math.max(...client.units.slice(0, from).map((unit) => unit.rtpTimestamp));
    if (client.units.slice(from).some((unit) => unit.keyframe && unit.rtpTimestamp < newest)) return true;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return false;
}


t.test('a PLI is answered with the kept group sent again to that viewer, once a second per stream however many ask', async (t) => {
  // Keyframes every 10 s: a keyframe within the test's few seconds can only be the kept one sent again.
  const relay = await startTestRelayFor(t, syntheticConfig({ rate: 10, extraStream: 'VideoGopSize 100' }));
  const endpoint = `${relay.baseUrl}/test.flv/whep`;
  const first = await connectedWhepClient(endpoint);
  const second = await connectedWhepClient(endpoint);
  t.same([first.failure, second.failure], [undefined, undefined], 'both answers applied');
  // The encoder starts with the first session: on a loaded machine that alone can take over ten seconds.
  await Promise.all([first.waitForUnits(5, 30_000), second.waitForUnits(5, 30_000)]);
  const seen = [first.units.length, second.units.length];
  t.ok(first.sendPli(), 'the first viewer sends a PLI');
  t.ok(await resentKeyframe(first, seen[0]!, 2000), 'the first viewer gets the kept keyframe again, as new packets');
  t.ok(second.sendPli(), 'the second viewer asks within the same second');
  t.notOk(await resentKeyframe(second, seen[1]!, 500), 'the stream answers one keyframe request a second');
  await new Promise((resolve) => setTimeout(resolve, 600));
  const later = second.units.length;
  t.ok(second.sendPli(), 'and asks again a second later');
  t.ok(await resentKeyframe(second, later, 2000), 'which is answered');
  t.equal(first.lost + second.lost, 0, 'the resent packets follow each viewer\'s own sequence: no gap, no duplicate');
  await first.waitForUnits(first.units.length + 3, 5000);
  const stat = await (await fetch(`${relay.baseUrl}/stat.json`)).json() as { streams: Array<{ name: string; protocols: Record<string, { keyframeRequests: number }> }> };
  t.equal(stat.streams.find((stream) => stream.name === 'test.flv')!.protocols.webrtc?.keyframeRequests, 3, '/stat.json counts the three requests');
  await first.close();
  await second.close();
});
