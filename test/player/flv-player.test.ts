import t from 'tap';
import type { Frame, Page } from 'playwright-core';
import { signViewerToken } from '../../relay/auth/viewer-token.ts';
import { launchChromium, screenshot } from '../helpers/browser.ts';
import { ControllableCamera, makeJpegFrames, registryWith } from '../helpers/controllable-camera.ts';
import { advances, playerView, reachesState, type PlayerView } from '../helpers/player-view.ts';
import { childFfmpegProcesses, waitFor } from '../helpers/probe.ts';
import { startTestRelay } from '../helpers/relay.ts';

const cam = new ControllableCamera(makeJpegFrames(20), 10);
const SECRET = 'a-secret-of-more-than-thirty-two-characters-for-tests';
const relay = await startTestRelay(
  `# These pages' own players; WebRTC first is test/player/webrtc-first.test.ts.
WebRTC no
ViewerTokenSecret ${SECRET}
<Camera cam>
  Source ctl://cam
  Timeout 2
</Camera>
<Stream cam.flv>
  Feed cam
  VideoFrameRate 10
  VideoSize 320x240
  VideoBitRate 300
</Stream>
<Stream cam.m3u8>
  Feed cam
  VideoFrameRate 10
  VideoSize 320x240
  VideoBitRate 300
  HLSSegmentTime 1
</Stream>
<Stream cam-signed.m3u8>
  Feed cam
  VideoFrameRate 10
  VideoSize 320x240
  VideoBitRate 300
  HLSSegmentTime 1
  Access token
</Stream>
<Stream cam.jpg>
  Feed cam
</Stream>
`,
  { adapters: registryWith({ cam }) },
);
const browser = await launchChromium();
t.teardown(async () => {
  await browser.close();
  await relay.stop();
});

let page: Page;

t.test('the FLV player linked from / plays by itself with mpegts.js', async (t) => {
  const index = await browser.newPage();
  await index.goto(`${relay.baseUrl}/`);
  const linked = await index.getAttribute('section[data-camera="cam"] a[href="/player/cam.flv"]', 'href');
  await index.close();
  t.equal(linked, '/player/cam.flv', 'the index links the FLV player beside the stream');
  page = await browser.newPage({ viewport: { width: 800, height: 900 } });
  await page.goto(`${relay.baseUrl}${linked}`);
  const played = await advances(page, 3, 30_000);
  t.equal(played.engine, 'mpegts', 'played by mpegts.js');
  t.equal(played.videoWidth, 320);
  t.equal(played.videoHeight, 240);
  t.ok(played.muted, 'started muted');
  t.notOk(await page.isVisible('#player-unmute'), 'no unmute control: the stream has no sound');
  t.notOk(await page.isVisible('#player-state'), 'no state label over a playing video');
  const buffered = await page.evaluate(() => {
    const video = document.querySelector('video')!;
    return video.buffered.end(video.buffered.length - 1) - video.currentTime;
  });
  t.ok(buffered < 2.5, `buffer ahead of the playhead stays bounded (${buffered.toFixed(2)} s)`);
  const script = await page.textContent('#snippet-script');
  t.match(script, /src="http:\/\/127\.0\.0\.1:\d+\/assets\/mpegts\.js"/, 'the script snippet loads mpegts.js from the relay');
  t.match(script, /enableStashBuffer: false/);
  t.match(script, /video\.src = 'http:\/\/127\.0\.0\.1:\d+\/cam\.m3u8'/, 'the snippet falls back to HLS');
  t.match(await page.textContent('#snippet-iframe'), /src="http:\/\/127\.0\.0\.1:\d+\/player\/cam\.flv\?embed"/);
  await screenshot(page, 'flv-player');
});

t.test('through a camera outage the FLV player, the wall and the index say the camera is down; all resume by themselves', async (t) => {
  // Guards stale FLV video replayed as "live" during an outage, wall labels stuck on "live" and a broken image on `/`.
  const wall = await browser.newPage({ viewport: { width: 640, height: 480 } });
  const index = await browser.newPage({ viewport: { width: 800, height: 600 } });
  t.teardown(() => Promise.all([wall.close(), index.close()]));
  await wall.goto(`${relay.baseUrl}/wall?cameras=cam`);
  await index.goto(`${relay.baseUrl}/`);
  await advances(page, 1, 20_000);
  t.equal(await wall.textContent('figure[data-camera="cam"] .state'), 'live');

  cam.setMode('down');
  const down = await reachesState(page, 'down', 20_000);
  t.ok(await page.isVisible('#player-state'), 'the state is visible over the video');
  // Longer than a stall (6 s) plus a rebuild (1.5 s): the old player replayed the kept video as "live" in that time.
  const seen: PlayerView[] = [];
  const until = Date.now() + 11_000;
  while (Date.now() < until) {
    seen.push(await playerView(page));
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  const states = [...new Set(seen.map((view) => view.state))];
  t.same(states, ['down'], `the player says "down" all through the outage (saw ${states.join(', ')})`);
  t.ok(seen.every((view) => /^camera unavailable, retrying/.test(view.label)), `it says why: "${seen.at(-1)!.label}"`);
  // Video played in the window, summed over steps of the video clock (a rebuilt session starts a new clock).
  const played = seen.slice(1).reduce((sum, view, index) => sum + Math.max(0, view.currentTime - seen[index]!.currentTime), 0);
  t.ok(played < 0.3, `no old video played as new (${played.toFixed(2)} s played)`);
  await screenshot(page, 'flv-player-camera-down');

  t.match(await wall.textContent('figure[data-camera="cam"] .state'), /^camera unavailable|^retrying/, 'the wall label follows the outage');
  t.equal(await wall.getAttribute('figure[data-camera="cam"] .picture', 'data-live'), '0');
  t.notOk(await wall.isVisible('figure[data-camera="cam"] img'), 'the wall shows the state, not an old picture');
  await screenshot(wall, 'wall-camera-down');
  await index.reload();
  t.notOk(await index.isVisible('section[data-camera="cam"] img.thumbnail'), 'no image (broken or old) on / for a down camera');
  t.match(await index.textContent('section[data-camera="cam"] .picture-state'), /camera unavailable|retrying/, 'the state in its place');
  t.equal(await index.$eval('section[data-camera="cam"] img.thumbnail', (img) => img.hasAttribute('src')), false, 'not even asked for');
  await screenshot(index, 'index-camera-down');

  cam.setMode('up');
  const resumed = await advances(page, 3, 45_000);
  t.equal(resumed.state, 'playing', 'playing again');
  t.comment(`sessions rebuilt: ${resumed.rebuilds - down.rebuilds}`);
  await wall.waitForFunction(() => document.querySelector('figure[data-camera="cam"] .state')?.textContent === 'live', undefined, { timeout: 15_000 });
  await wall.waitForFunction(() => (document.querySelector('figure[data-camera="cam"] img') as HTMLImageElement).naturalWidth > 0, undefined, { timeout: 15_000 });
  await index.waitForFunction(() => (document.querySelector('section[data-camera="cam"] img.thumbnail') as HTMLImageElement).naturalWidth > 0, undefined, { timeout: 15_000 });
  t.pass('the wall and the index show the picture again');
});

t.test('ffmpeg killed with SIGKILL: the player resumes by itself', async (t) => {
  // Guards recovery from an encoder that dies and restarts with fresh timestamps under a playing viewer.
  await advances(page, 1, 20_000);
  const before = await playerView(page);
  const encoders = childFfmpegProcesses(process.pid).filter((child) => /libx264/.test(child.cmdline));
  t.ok(encoders.length >= 1, `found the H.264 encoders (${encoders.length} ffmpeg)`);
  for (const encoder of encoders) process.kill(encoder.pid, 'SIGKILL');
  await waitFor(() => !childFfmpegProcesses(process.pid).some((child) => encoders.some((old) => old.pid === child.pid)), 5_000, 'the old encoders gone');
  const killedAt = await playerView(page);
  // More than the bounded buffer can hold: these seconds were encoded by the new ffmpeg.
  const resumed = await advances(page, 4, 45_000);
  t.equal(resumed.state, 'playing', 'playing again');
  t.ok(resumed.currentTime >= killedAt.currentTime + 4 || resumed.rebuilds > before.rebuilds, 'the clock moved on past the kill, or in a new session');
  t.comment(`sessions rebuilt: ${resumed.rebuilds - before.rebuilds}; player errors: ${JSON.stringify(await page.evaluate(() => (window as unknown as { relayPlayer: { errors: string[] } }).relayPlayer.errors))}`);
  t.ok(childFfmpegProcesses(process.pid).some((child) => !encoders.some((old) => old.pid === child.pid)), 'a new encoder runs');
});

t.test('without Media Source Extensions the page plays the camera\'s HLS stream', async (t) => {
  const context = await browser.newContext();
  t.teardown(() => context.close());
  // What an older iPhone looks like to the page: no MediaSource at all.
  await context.addInitScript(() => {
    delete (window as { MediaSource?: unknown }).MediaSource;
    delete (window as { ManagedMediaSource?: unknown }).ManagedMediaSource;
    delete (window as { WebKitMediaSource?: unknown }).WebKitMediaSource;
  });
  const plain = await context.newPage();
  await plain.goto(`${relay.baseUrl}/player/cam.flv`);
  const native = await plain.evaluate(() => document.querySelector('video')!.canPlayType('application/vnd.apple.mpegurl'));
  t.ok(native, `this Chromium plays HLS natively ('${native}')`);
  const played = await advances(plain, 2, 30_000);
  t.equal(played.engine, 'hls-fallback', 'fell back to HLS');
  t.match(await plain.evaluate(() => document.querySelector('video')!.currentSrc), /\/cam\.m3u8$/);
});

t.test('the state endpoint tells viewers only a state and a sentence', async (t) => {
  const response = await fetch(`${relay.baseUrl}/player/cam.flv/state`);
  t.equal(response.status, 200);
  t.equal(response.headers.get('cache-control'), 'no-cache');
  const body = (await response.json()) as Record<string, unknown>;
  t.same(Object.keys(body).sort(), ['state', 'text'], 'no other field');
  t.equal(body.state, 'live');
  const missing = await fetch(`${relay.baseUrl}/player/nothere.flv/state`);
  t.equal(missing.status, 404);
  await missing.arrayBuffer();
});

t.test('an expired signed link says so, and the embedding page hands over a fresh one', async (t) => {
  // Guards an expired signed link shown as "reconnecting…" forever, with no way to hand the player a new one.
  const page = await browser.newPage({ viewport: { width: 800, height: 600 } });
  t.teardown(() => page.close());
  // A link valid for 5 more seconds, embedded as the snippet says, by a page that listens to the player.
  const token = signViewerToken(SECRET, 'cam-signed.m3u8', Math.floor(Date.now() / 1000) + 5);
  await page.setContent(`<iframe id="camera" src="${relay.baseUrl}/player/cam-signed.m3u8?token=${token}&embed" width="640" height="480"></iframe>
<script>window.states = []; addEventListener('message', (event) => { if (event.data && event.data.type === 'relay-player-state') states.push(event.data.state); });</script>`);
  const frame = await frameOf(page, '/player/cam-signed.m3u8');
  await advances(frame, 1, 30_000);
  const expired = await reachesState(frame, 'expired', 25_000);
  t.equal(expired.label, 'link expired', 'the viewer reads "link expired"');
  t.ok((await page.evaluate(() => (window as unknown as { states: string[] }).states)).includes('expired'), 'the embedding page was told');
  await screenshot(page, 'truth-link-expired');

  const fresh = signViewerToken(SECRET, 'cam-signed.m3u8', Math.floor(Date.now() / 1000) + 600);
  const reloadsBefore = await frame.evaluate(() => performance.getEntriesByType('navigation').length);
  await page.evaluate((next) => (document.getElementById('camera') as HTMLIFrameElement).contentWindow!.postMessage({ type: 'relay-player-token', token: next }, '*'), fresh);
  const resumed = await advances(frame, 2, 30_000);
  t.equal(resumed.state, 'playing', 'plays on with the fresh link');
  t.equal(await frame.evaluate(() => performance.getEntriesByType('navigation').length), reloadsBefore, 'without a reload');
});

async function frameOf(page: Page, path: string): Promise<Frame> {
  for (let i = 0; i < 100; i++) {
    const frame = page.frames().find((candidate) => candidate.url().includes(path));
    if (frame) return frame;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`no frame ${path}`);
}
