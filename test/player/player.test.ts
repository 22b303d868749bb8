import { readFile, writeFile } from 'node:fs/promises';
import t from 'tap';
import type { Page } from 'playwright-core';
import { launchChromium, screenshot } from '../helpers/browser.ts';
import { advances, playerView, reachesState } from '../helpers/player-view.ts';
import { startTestRelay, syntheticConfig } from '../helpers/relay.ts';

// These pages' own players (native, hls.js); WebRTC first is test/player/webrtc-first.test.ts.
const relay = await startTestRelay(`WebRTC no\n${syntheticConfig({ rate: 10 })}`);
const browser = await launchChromium();
t.teardown(async () => {
  await browser.close();
  await relay.stop();
});

const view = playerView;

// Chromium reports native HLS ('maybe'), so the default page plays natively; hls.js is forced on the second page.
const pages: Record<string, Page> = {};

t.test('the player page linked from / plays by itself, natively and with hls.js', async (t) => {
  // Guards the player that opened on "connecting…" over a paused black video unless ?autoplay&muted was added.
  const index = await browser.newPage();
  await index.goto(`${relay.baseUrl}/`);
  const linked = await index.getAttribute('section[data-camera="test"] a[href^="/player/"][href$=".m3u8"]', 'href');
  await index.close();
  t.equal(linked, '/player/test.m3u8', 'the index links the HLS player without a query string');
  for (const engine of ['native', 'hlsjs']) {
    const page = await browser.newPage({ viewport: { width: 900, height: 900 } });
    pages[engine] = page;
    // The native page is opened exactly as linked; the hls.js one adds only the engine choice.
    await page.goto(`${relay.baseUrl}${linked}${engine === 'hlsjs' ? '?engine=hlsjs' : ''}`);
  }
  // Both pages play at once: each one's three seconds are watched side by side, not one after the other.
  const plays = await Promise.all(Object.values(pages).map((page) => advances(page, 3, 20_000)));
  for (const [index, [engine, page]] of Object.entries(pages).entries()) {
    const played = plays[index]!;
    t.equal(played.engine, engine, `plays with ${engine}`);
    t.equal(played.videoWidth, 320, `${engine}: video width`);
    t.equal(played.videoHeight, 240, `${engine}: video height`);
    t.equal(await page.getAttribute('#player', 'data-state'), 'playing');
    t.notOk(await page.isVisible('#player-state'), `${engine}: no state label over a playing video`);
    t.ok(played.muted, `${engine}: started muted (browsers refuse autoplay with sound)`);
    t.notOk(await page.isVisible('#player-unmute'), `${engine}: no unmute control on a stream without sound`);
    await screenshot(page, `player-${engine}`);
  }
  const defaultEngine = await browser.newPage();
  t.teardown(() => defaultEngine.close());
  await defaultEngine.goto(`${relay.baseUrl}/player/test.m3u8`);
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
  const resumes = await Promise.all(Object.values(pages).map((page) => advances(page, 2, 30_000)));
  for (const [index, engine] of Object.keys(pages).entries()) {
    const resumed = resumes[index]!;
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
  t.match(src, /\/player\/test\.m3u8\?embed$/);
  t.match(await page.textContent('#snippet-mjpeg'), /<img src="http:\/\/127\.0\.0\.1:\d+\/test\.mjpg"/);
  // The iframe snippet as a dashboard would use it: muted autoplay starts without a click.
  await page.setContent(iframe!);
  const frame = page.frameLocator('iframe');
  await frame.locator('#player[data-state="playing"]').waitFor({ timeout: 20_000 });
  t.equal(await frame.locator('h1').count(), 0, 'only the player inside the iframe');
  await screenshot(page, 'player-embedded');
});

t.test('the unmute control shows when the media has sound, unmutes and hides itself', async (t) => {
  // The relay's streams carry no sound yet: the browser's report of decoded audio is what the player reads, faked here.
  const context = await browser.newContext();
  t.teardown(() => context.close());
  await context.addInitScript(() => Object.defineProperty(HTMLMediaElement.prototype, 'webkitAudioDecodedByteCount', { get: () => 4096 }));
  const page = await context.newPage();
  await page.goto(`${relay.baseUrl}/player/test.m3u8?engine=hlsjs`);
  await page.waitForSelector('#player-unmute', { state: 'visible', timeout: 20_000 });
  await page.click('#player-unmute');
  await page.waitForSelector('#player-unmute', { state: 'hidden', timeout: 5_000 });
  t.notOk((await view(page)).muted, 'sound on');
  const after = await advances(page, 1, 15_000);
  t.equal(after.state, 'playing', 'still playing after unmuting');
});

t.test('?autoplay=0 waits for the viewer and says so, instead of "connecting…"', async (t) => {
  const page = await browser.newPage();
  t.teardown(() => page.close());
  await page.goto(`${relay.baseUrl}/player/test.m3u8?autoplay=0&engine=hlsjs`);
  await reachesState(page, 'paused', 10_000);
  await page.waitForFunction(() => document.querySelector('video')!.buffered.length > 0, undefined, { timeout: 20_000 });
  await page.waitForTimeout(500);
  // hls.js moves the paused clock once to the live edge it will start from; after that it stays.
  const shown = await view(page);
  await page.waitForTimeout(1500);
  const later = await view(page);
  t.equal(later.state, 'paused');
  t.equal(later.label, 'paused: press play', 'buffered video is not "connecting…"');
  t.ok(later.paused, 'not playing');
  t.equal(later.currentTime, shown.currentTime, 'the clock did not move');
  t.notOk(later.muted, 'not muted when not autoplaying');
  await page.click('video');
  await page.evaluate(() => document.querySelector('video')!.play());
  const played = await advances(page, 1, 20_000);
  t.equal(played.state, 'playing', 'plays once the viewer asks');
});

t.test('hls.js media errors past its own recoveries: the page rebuilds its player with no uncaught error, and plays on', async (t) => {
  // The path past hls.js's own cures: two media recoveries, then a rebuild of the whole player.
  const page = await browser.newPage();
  t.teardown(() => page.close());
  const uncaught: string[] = [];
  page.on('pageerror', (error) => uncaught.push(error.message));
  // Counts hls.js instances destroyed while hls.js dispatches its ERROR event: it goes on with its own work after the
  // handlers return (mid-append, "Cannot read properties of null (reading 'trigger')"), so the player must not.
  await page.addInitScript(() => {
    const state = window as unknown as { destroyedInErrorEvent: number };
    state.destroyedInErrorEvent = 0;
    let depth = 0;
    let installed: unknown;
    Object.defineProperty(window, 'Hls', {
      configurable: true,
      get: () => installed,
      set: (Hls: { Events: { ERROR: string }; prototype: { trigger(...args: unknown[]): unknown; destroy(): void } }) => {
        installed = Hls;
        const { trigger, destroy } = Hls.prototype;
        Hls.prototype.trigger = function (this: unknown, ...args: unknown[]) {
          if (args[0] !== Hls.Events.ERROR) return trigger.apply(this, args);
          depth++;
          try {
            return trigger.apply(this, args);
          } finally {
            depth--;
          }
        };
        Hls.prototype.destroy = function (this: unknown) {
          if (depth > 0) state.destroyedInErrorEvent++;
          destroy.call(this);
        };
      },
    });
  });
  let corrupt = true;
  // Segments that no demuxer can read: each one is a fatal media error for hls.js.
  await page.route(/\/test\/[^/]*\.ts(\?.*)?$/, (route) => (corrupt
    ? route.fulfill({ status: 200, contentType: 'video/mp2t', body: Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7919) % 251)) })
    : route.continue()));
  await page.goto(`${relay.baseUrl}/player/test.m3u8?engine=hlsjs`);
  await page.waitForFunction(() => (window as unknown as { relayPlayer: { rebuilds: number } }).relayPlayer.rebuilds >= 1, undefined, { timeout: 30_000 });
  corrupt = false;
  const resumed = await advances(page, 2, 30_000);
  t.equal(resumed.state, 'playing', 'plays once the segments are readable again');
  t.same(uncaught, [], 'no uncaught error on the page');
  // Guards the rebuild from inside hls.js's ERROR handler, which destroyed hls.js while it was still at work.
  t.equal(await page.evaluate(() => (window as unknown as { destroyedInErrorEvent: number }).destroyedInErrorEvent), 0, 'hls.js never destroyed from inside its own ERROR event');
});
