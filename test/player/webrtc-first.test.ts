import t from 'tap';
import type { Browser, Page } from 'playwright-core';
import { launchChromium } from '../helpers/browser.ts';
import { advances } from '../helpers/player-view.ts';
import { startTestRelayFor, syntheticConfig } from '../helpers/relay.ts';
import { endWebRtc, WhepClient, connectedWhepClient } from '../helpers/whep-client.ts';

t.teardown(endWebRtc);

// A STUN server nobody answers on loopback (players only gather through it) and a second loopback address as the
// public one: both must reach what players get, and neither may stop a player on this machine.
const relay = await startTestRelayFor(t, `WebRTCICEServers stun:127.0.0.1:9\nWebRTCAdditionalHosts 127.0.0.2\n${syntheticConfig({ rate: 10 })}`);

/** The stream's WebRTC sessions on /stat.json. */
async function webrtcViewers(): Promise<number> {
  const stat = await (await fetch(`${relay.baseUrl}/stat.json`)).json() as { streams: Array<{ name: string; protocols: Record<string, { viewers: number }> }> };
  return stat.streams.find((stream) => stream.name === 'test.flv')!.protocols.webrtc?.viewers ?? 0;
}

/** Opens `/`, follows the link named `text` of stream `name` as a viewer would, and collects console and CSP complaints. */
async function openLinked(browser: Browser, name: string, text: string, initScript?: () => void): Promise<{ page: Page; problems: string[] }> {
  const page = await browser.newPage({ viewport: { width: 800, height: 700 } });
  if (initScript) await page.addInitScript(initScript);
  const problems: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error') problems.push(message.text());
  });
  page.on('pageerror', (error) => problems.push(error.message));
  await page.goto(`${relay.baseUrl}/`);
  const href = await page.getAttribute(`li:has(a[href="/${name}"]) a:text-is("${text}")`, 'href');
  t.notMatch(href, /\?/, `${text}: linked with no query string`);
  await page.goto(`${relay.baseUrl}${href}`);
  return { page, problems };
}

t.test('the WHEP answer carries WebRTCAdditionalHosts as host candidates, and the player pages the ICE servers', async (t) => {
  const client = await connectedWhepClient(`${relay.baseUrl}/test.flv/whep`);
  t.equal(client.answer!.status, 201);
  const candidates = client.answer!.body.split('\r\n').filter((line) => line.startsWith('a=candidate:'));
  const own = candidates.find((line) => / 127\.0\.0\.1 \d+ typ host/.test(line));
  const extra = candidates.find((line) => / 127\.0\.0\.2 \d+ typ host/.test(line));
  t.ok(own && extra, `a host candidate on 127.0.0.1 and one on 127.0.0.2 in:\n${candidates.join('\n')}`);
  t.equal(extra?.split(' ')[5], own?.split(' ')[5], 'on the same port');
  await client.waitForUnits(3, 15_000);
  await client.close();
  for (const page of ['/player/test.flv', '/player/test.m3u8', '/player/test.flv.webrtc']) {
    const html = await (await fetch(`${relay.baseUrl}${page}`)).text();
    t.match(html, 'data-ice-servers="[{&quot;urls&quot;:&quot;stun:127.0.0.1:9&quot;}]"', `${page} hands the player the ICE servers`);
    t.match(html, 'data-whep="/test.flv/whep"'.replace('test.flv', page.includes('m3u8') ? 'test.m3u8' : 'test.flv'), `${page} plays WHEP`);
  }
});

t.test('the FLV player page, as linked from /, plays over WebRTC first', async (t) => {
  const browser = await launchChromium();
  t.teardown(() => browser.close());
  const index = await (await fetch(`${relay.baseUrl}/`)).text();
  t.match(index, '<a href="/player/test.webrtc">WebRTC player</a>', '/ links the WebRTC player');
  const { page, problems } = await openLinked(browser, 'test.flv', 'player');
  const played = await advances(page, 2, 30_000);
  t.equal(played.engine, 'webrtc', 'played by WebRTC');
  t.equal(played.videoWidth, 320);
  t.same(problems, [], 'no console error, page error or CSP violation');
  await page.goto('about:blank');
  for (let waited = 0; (await webrtcViewers()) > 0 && waited < 5000; waited += 200) await new Promise((resolve) => setTimeout(resolve, 200));
  t.equal(await webrtcViewers(), 0, 'leaving the page ends its session (DELETE)');
});

/** A network where the browser and the relay cannot reach each other's candidates: none go out in the offer or come in with the answer. */
function hideCandidates(): void {
  const strip = (sdp: string): string => sdp.split('\r\n').filter((line) => !line.startsWith('a=candidate') && !line.startsWith('a=end-of-candidates')).join('\r\n');
  const post = window.fetch;
  window.fetch = (input, init) => post(input, init && typeof init.body === 'string' && String(input).includes('/whep') ? { ...init, body: strip(init.body) } : init);
  const apply = RTCPeerConnection.prototype.setRemoteDescription as (this: RTCPeerConnection, description: RTCSessionDescriptionInit) => Promise<void>;
  RTCPeerConnection.prototype.setRemoteDescription = function (this: RTCPeerConnection, description?: RTCSessionDescriptionInit) {
    return apply.call(this, { type: description!.type, sdp: strip(description!.sdp ?? '') });
  } as typeof RTCPeerConnection.prototype.setRemoteDescription;
}

t.test('where WebRTC cannot connect (no candidate reachable), the page falls back to the FLV player by itself', async (t) => {
  const browser = await launchChromium();
  t.teardown(() => browser.close());
  const started = Date.now();
  const { page, problems } = await openLinked(browser, 'test.flv', 'player', hideCandidates);
  const played = await advances(page, 2, 40_000);
  t.equal(played.engine, 'mpegts', 'played by mpegts.js after WebRTC gave way');
  t.match(await page.evaluate(() => (window as unknown as { relayPlayer: { webrtcFailure?: string } }).relayPlayer.webrtcFailure), /not connected within 4 s|connection failed/);
  t.ok(Date.now() - started < 30_000, `playing ${Date.now() - started} ms after opening`);
  t.same(problems, [], 'no console error, page error or CSP violation');
  t.equal(await webrtcViewers(), 0, 'the WebRTC session that could not connect was ended (DELETE)');
});
