import t from 'tap';
import { launchChromium, screenshot } from '../helpers/browser.ts';
import { waitFor } from '../helpers/probe.ts';
import { startTestRelay, syntheticConfig } from '../helpers/relay.ts';
import { startNginx } from './nginx-peer.ts';

// A person opening the relay's player page through nginx: the page, the playlist and the segments all come via the cache.

t.test('the HLS player page opened through nginx plays by itself, with segments from the cache', async (t) => {
  // The HLS page's own player (hls.js through the cache); with WebRTC on, the page would play over WebRTC first.
  const relay = await startTestRelay(`WebRTC no\n${syntheticConfig({ rate: 10 })}`);
  t.teardown(() => relay.stop());
  const nginx = await startNginx(relay.port);
  t.teardown(() => nginx.stop());
  await waitFor(async () => (await fetch(`${nginx.baseUrl}/test.m3u8`)).status === 200, 60_000, 'the playlist through nginx');
  const browser = await launchChromium();
  t.teardown(() => browser.close());
  const page = await browser.newPage({ viewport: { width: 900, height: 800 } });
  await page.goto(`${nginx.baseUrl}/stat.html`);
  await page.click('a.player-link[href$="/test.m3u8"]');
  await page.waitForURL(/\/player\/test\.m3u8$/);
  const playedTo = async (): Promise<number> => page.evaluate(() => document.querySelector('video')!.currentTime);
  await waitFor(async () => (await playedTo()) > 0, 30_000, 'playback to start');
  const start = await playedTo();
  await waitFor(async () => (await playedTo()) - start >= 3, 30_000, 'three seconds of video');
  t.same(await page.evaluate(() => [document.querySelector('video')!.videoWidth, document.querySelector('video')!.videoHeight]), [320, 240]);
  await screenshot(page, 'player-through-nginx');
  // Guards against nginx passing Host without its port: the embed snippets then linked to port 80.
  t.match(await page.textContent('body'), `src="${nginx.baseUrl}/player/test.m3u8?embed`, 'the embed snippet links through nginx, port and all');
  const log = await nginx.accessLog();
  const segments = log.filter((line) => /GET \/test\/[^ ]+\.(ts|m4s|mp4) /.test(line));
  t.ok(segments.length >= 2, `${segments.length} segment requests went through nginx`);
  t.ok(segments.every((line) => / cache=(MISS|HIT|UPDATING|STALE|REVALIDATED) /.test(line)), 'every one of them through the cache');
});
