import t from 'tap';
import { launchChromiumFor, screenshot } from '../helpers/browser.ts';
import { advances } from '../helpers/player-view.ts';
import { waitFor } from '../helpers/probe.ts';
import type { ViewerStatus } from '../../relay/app/status.ts';
import { startTestRelay, syntheticConfig } from '../helpers/relay.ts';
import { endWebRtc } from '../helpers/whep-client.ts';

t.teardown(endWebRtc);

t.test('Chromium plays /player/NAME.webrtc by itself over WHEP, muted, with no console or CSP error', async (t) => {
  const relay = await startTestRelay(syntheticConfig({ rate: 10 }));
  const browser = await launchChromiumFor(t, () => relay.stop());
  const page = await browser.newPage({ viewport: { width: 800, height: 700 } });
  const problems: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error' || message.type() === 'warning') problems.push(message.text());
  });
  page.on('pageerror', (error) => problems.push(error.message));
  await page.goto(`${relay.baseUrl}/player/test.webrtc`);
  const played = await advances(page, 2, 40_000);
  t.equal(played.engine, 'webrtc');
  t.equal(played.videoWidth, 320);
  t.equal(played.videoHeight, 240);
  t.ok(played.muted, 'started muted');
  const stat = await (await fetch(`${relay.baseUrl}/stat.json`)).json() as { streams: Array<{ name: string; protocols: Record<string, { viewers: number }> }> };
  t.equal(stat.streams.find((stream) => stream.name === 'test.flv')!.protocols.webrtc?.viewers, 1, 'one WebRTC viewer on /stat.json');
  const [session] = relay.relay.protocolConsumers('test.flv', 1) as unknown as Array<{ rtx: boolean }>;
  t.equal(session?.rtx, true, 'Chromium\'s offer has RTX, and plays with it in the answer');
  // Chromium answers the relay's sender reports: /stat.json shows its round-trip time and selected pair.
  const viewers = async (): Promise<ViewerStatus[]> => {
    const stat = await (await fetch(`${relay.baseUrl}/stat.json`)).json() as { streams: Array<{ name: string; viewerList: ViewerStatus[] }> };
    return stat.streams.find((stream) => stream.name === 'test.flv')!.viewerList.filter((viewer) => viewer.protocol === 'webrtc');
  };
  await waitFor(async () => typeof (await viewers())[0]?.webrtc?.rttMs === 'number', 10_000, 'Chromium\'s RTT');
  const [viewer] = await viewers();
  t.ok(viewer!.webrtc!.rttMs! >= 0 && viewer!.webrtc!.rttMs! < 1000, `RTT ${viewer!.webrtc!.rttMs} ms`);
  t.equal(viewer!.webrtc!.transport, 'udp');
  t.match(await page.textContent('#snippet-iframe'), /src="http:\/\/127\.0\.0\.1:\d+\/player\/test\.flv\.webrtc\?embed=1"/);
  await screenshot(page, 'webrtc-player');
  t.same(problems, [], 'no console errors or warnings');
  const notFound = await fetch(`${relay.baseUrl}/player/test.mjpg.webrtc`);
  await notFound.body?.cancel();
  t.equal(notFound.status, 404, 'no WebRTC page for a stream without WebRTC');
  await page.close();
});
