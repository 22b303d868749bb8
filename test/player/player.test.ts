import { readFile, writeFile } from 'node:fs/promises';
import t from 'tap';
import type { Page } from 'playwright-core';
import { launchChromium, screenshot } from '../helpers/browser.ts';
import { startTestRelay, syntheticConfig } from '../helpers/relay.ts';

const relay = await startTestRelay(syntheticConfig({ rate: 10 }));
const browser = await launchChromium();
t.teardown(async () => {
  await browser.close();
  await relay.stop();
});

interface PlayerView {
  currentTime: number;
  videoWidth: number;
  videoHeight: number;
  state: string;
  engine: string;
  rebuilds: number;
}

const view = (page: Page): Promise<PlayerView> =>
  page.evaluate(() => {
    const video = document.querySelector('video')!;
    const info = (window as unknown as { relayPlayer: { engine: string; state: string; rebuilds: number } }).relayPlayer;
    return { currentTime: video.currentTime, videoWidth: video.videoWidth, videoHeight: video.videoHeight, ...info };
  });

/** Waits until the page's video has played `seconds` more than when called, by the video's own clock. */
async function advances(page: Page, seconds: number, timeoutMs: number): Promise<PlayerView> {
  const deadline = Date.now() + timeoutMs;
  let start: number | undefined;
  for (;;) {
    const now = await view(page);
    if (now.state === 'playing' && start === undefined) start = now.currentTime;
    if (start !== undefined && now.currentTime - start >= seconds) return now;
    if (Date.now() > deadline) throw new Error(`video did not advance ${seconds} s in ${timeoutMs} ms: ${JSON.stringify(now)}`);
    await page.waitForTimeout(250);
  }
}

// Chromium reports native HLS ('maybe'), so the default page plays natively; hls.js is forced on the second page.
const pages: Record<string, Page> = {};

t.test('the player page plays the synthetic camera, natively and with hls.js', async (t) => {
  for (const engine of ['native', 'hlsjs']) {
    const page = await browser.newPage({ viewport: { width: 900, height: 900 } });
    pages[engine] = page;
    await page.goto(`${relay.baseUrl}/player/test.m3u8?autoplay&muted&engine=${engine}`);
  }
  for (const [engine, page] of Object.entries(pages)) {
    const played = await advances(page, 3, 20_000);
    t.equal(played.engine, engine, `plays with ${engine}`);
    t.equal(played.videoWidth, 320, `${engine}: video width`);
    t.equal(played.videoHeight, 240, `${engine}: video height`);
    t.equal(await page.getAttribute('#player', 'data-state'), 'playing');
    t.notOk(await page.isVisible('#player-state'), `${engine}: no state label over a playing video`);
    await screenshot(page, `player-${engine}`);
  }
  const defaultEngine = await browser.newPage();
  t.teardown(() => defaultEngine.close());
  await defaultEngine.goto(`${relay.baseUrl}/player/test.m3u8?muted`);
  const chosen = await defaultEngine.evaluate(() => ({
    native: document.querySelector('video')!.canPlayType('application/vnd.apple.mpegurl'),
    engine: (window as unknown as { relayPlayer: { engine: string } }).relayPlayer.engine,
    mse: MediaSource.isTypeSupported('video/mp4; codecs="avc1.64001f"'),
  }));
  t.equal(chosen.engine, chosen.native ? 'native' : 'hlsjs', `default engine ${chosen.engine} (canPlayType '${chosen.native}')`);
  t.ok(chosen.mse, 'this Chromium plays H.264 through MSE (what hls.js needs)');
});

t.test('after the camera stops and comes back, both players resume by themselves', async (t) => {
  // Guards the player's recovery: a stream that disappears (404) and restarts from sequence 0 must play again unaided.
  const original = await readFile(relay.configFile, 'utf8');
  const statusOnly = original.replace(/<Camera test>[\s\S]*<\/Camera>/, '').replace(/<Stream test\.[\s\S]*?<\/Stream>/g, '');
  t.notMatch(statusOnly, /Feed test/, 'the rewritten config has no stream of the camera');
  await writeFile(relay.configFile, statusOnly);
  await relay.reload();
  t.equal(relay.relay.feeds.size, 0, 'camera stopped');
  for (const [engine, page] of Object.entries(pages)) {
    await page.waitForSelector('#player[data-state="reconnecting"]', { timeout: 20_000 });
    t.ok(await page.isVisible('#player-state'), `${engine}: shows that it is reconnecting`);
    t.equal(await page.textContent('#player-state'), 'reconnecting…');
  }
  await screenshot(pages.hlsjs!, 'player-reconnecting');
  await writeFile(relay.configFile, original);
  await relay.reload();
  for (const [engine, page] of Object.entries(pages)) {
    const resumed = await advances(page, 2, 30_000);
    t.equal(resumed.state, 'playing', `${engine} resumed`);
    t.equal(resumed.videoWidth, 320);
    t.ok(resumed.rebuilds >= 1, `${engine}: rebuilt its session ${resumed.rebuilds} time(s)`);
  }
  await screenshot(pages.native!, 'player-resumed');
});

t.test('embed mode and its snippets', async (t) => {
  const page = await browser.newPage({ viewport: { width: 700, height: 600 } });
  t.teardown(() => page.close());
  await page.goto(`${relay.baseUrl}/player/test.m3u8`);
  const iframe = await page.textContent('#snippet-iframe');
  const src = /src="([^"]+)"/.exec(iframe ?? '')?.[1];
  t.match(src, /\/player\/test\.m3u8\?embed&autoplay&muted$/);
  t.match(await page.textContent('#snippet-mjpeg'), /<img src="http:\/\/127\.0\.0\.1:\d+\/test\.mjpg"/);
  // The iframe snippet as a dashboard would use it: muted autoplay starts without a click.
  await page.setContent(iframe!);
  const frame = page.frameLocator('iframe');
  await frame.locator('#player[data-state="playing"]').waitFor({ timeout: 20_000 });
  t.equal(await frame.locator('h1').count(), 0, 'only the player inside the iframe');
  await screenshot(page, 'player-embedded');
});
