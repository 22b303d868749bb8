// Guards players and pages that told viewers something untrue: stale FLV video shown as live during an outage, wall
// labels stuck on "live", a broken image on `/` for a down camera, an unmute button on silent streams, and an
// expired signed link shown as "reconnecting…" forever with no way for the embedding page to hand over a new one.
import t from 'tap';
import type { Frame, Page } from 'playwright-core';
import { signViewerToken } from '../../relay/auth/viewer-token.ts';
import { launchChromium, screenshot } from '../helpers/browser.ts';
import { ControllableCamera, makeJpegFrames, registryWith } from '../helpers/controllable-camera.ts';
import { advances, playerView, reachesState, type PlayerView } from '../helpers/player-view.ts';
import { startTestRelay } from '../helpers/relay.ts';

const SECRET = 'a-secret-of-more-than-thirty-two-characters-for-tests';
const cam = new ControllableCamera(makeJpegFrames(20), 10);
const relay = await startTestRelay(
  `ViewerTokenSecret ${SECRET}
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

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

t.test('through a camera outage the FLV player, the wall and the index say the camera is down', async (t) => {
  const player = await browser.newPage({ viewport: { width: 800, height: 700 } });
  const wall = await browser.newPage({ viewport: { width: 640, height: 480 } });
  const index = await browser.newPage({ viewport: { width: 800, height: 600 } });
  t.teardown(() => Promise.all([player.close(), wall.close(), index.close()]));
  await player.goto(`${relay.baseUrl}/player/cam.flv`);
  await wall.goto(`${relay.baseUrl}/wall?cameras=cam`);
  await index.goto(`${relay.baseUrl}/`);
  const playing = await advances(player, 2, 30_000);
  t.notOk(await player.isVisible('#player-unmute'), 'no unmute button: the stream has no sound');
  t.equal(playing.muted, true);
  t.equal(await wall.textContent('figure[data-camera="cam"] .state'), 'live');

  cam.setMode('down');
  await reachesState(player, 'down', 20_000);
  const downAt = await playerView(player);
  // Longer than a stall (6 s) plus a rebuild (1.5 s): the old player replayed the kept video as "live" in that time.
  const seen: PlayerView[] = [];
  const until = Date.now() + 11_000;
  while (Date.now() < until) {
    seen.push(await playerView(player));
    await sleep(250);
  }
  const states = [...new Set(seen.map((view) => view.state))];
  t.same(states, ['down'], `the player says "down" all through the outage (saw ${states.join(', ')})`);
  t.ok(seen.every((view) => /^camera unavailable/.test(view.label)), `it says why: "${seen.at(-1)!.label}"`);
  const played = Math.max(...seen.map((view) => view.currentTime)) - downAt.currentTime;
  t.ok(played < 0.3 || seen.at(-1)!.rebuilds === downAt.rebuilds, `no old video played as new (${played.toFixed(2)} s played in a new session)`);
  await screenshot(player, 'truth-flv-down');

  t.match(await wall.textContent('figure[data-camera="cam"] .state'), /^camera unavailable|^retrying/, 'the wall label follows the outage');
  t.equal(await wall.getAttribute('figure[data-camera="cam"] .picture', 'data-live'), '0');
  t.notOk(await wall.isVisible('figure[data-camera="cam"] img'), 'the wall shows the state, not an old picture');
  await screenshot(wall, 'truth-wall-down');
  await index.reload();
  t.notOk(await index.isVisible('section[data-camera="cam"] img.thumbnail'), 'no image (broken or old) on / for a down camera');
  t.match(await index.textContent('section[data-camera="cam"] .picture-state'), /camera unavailable|retrying/, 'the state in its place');
  t.equal(await index.$eval('section[data-camera="cam"] img.thumbnail', (img) => img.hasAttribute('src')), false, 'not even asked for');
  await screenshot(index, 'truth-index-down');

  cam.setMode('up');
  const back = await advances(player, 2, 45_000);
  t.equal(back.state, 'playing', 'the player plays again');
  await wall.waitForFunction(() => document.querySelector('figure[data-camera="cam"] .state')?.textContent === 'live', undefined, { timeout: 15_000 });
  await wall.waitForFunction(() => (document.querySelector('figure[data-camera="cam"] img') as HTMLImageElement).naturalWidth > 0, undefined, { timeout: 15_000 });
  await index.waitForFunction(() => (document.querySelector('section[data-camera="cam"] img.thumbnail') as HTMLImageElement).naturalWidth > 0, undefined, { timeout: 15_000 });
  t.pass('the wall and the index show the picture again');
});

t.test('an expired signed link says so, and the embedding page hands over a fresh one', async (t) => {
  const page = await browser.newPage({ viewport: { width: 800, height: 600 } });
  t.teardown(() => page.close());
  // A link valid for 5 more seconds, embedded as the snippet says, by a page that listens to the player.
  const token = signViewerToken(SECRET, 'cam.m3u8', Math.floor(Date.now() / 1000) + 5);
  await page.setContent(`<iframe id="camera" src="${relay.baseUrl}/player/cam.m3u8?token=${token}&embed" width="640" height="480"></iframe>
<script>window.states = []; addEventListener('message', (event) => { if (event.data && event.data.type === 'relay-player-state') states.push(event.data.state); });</script>`);
  const frame = await frameOf(page, '/player/cam.m3u8');
  await advances(frame, 1, 30_000);
  const expired = await reachesFrameState(frame, 'expired', 25_000);
  t.equal(expired.label, 'link expired', 'the viewer reads "link expired"');
  t.ok((await page.evaluate(() => (window as unknown as { states: string[] }).states)).includes('expired'), 'the embedding page was told');
  await screenshot(page, 'truth-link-expired');

  const fresh = signViewerToken(SECRET, 'cam.m3u8', Math.floor(Date.now() / 1000) + 600);
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
    await sleep(100);
  }
  throw new Error(`no frame ${path}`);
}

async function reachesFrameState(frame: Frame, state: string, timeoutMs: number): Promise<PlayerView> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const now = await playerView(frame);
    if (now.state === state) return now;
    if (Date.now() > deadline) throw new Error(`player never reached '${state}' in ${timeoutMs} ms: ${JSON.stringify(now)}`);
    await sleep(200);
  }
}
