import t from 'tap';
import type { Page } from 'playwright-core';
import { launchChromiumFor, screenshot } from '../helpers/browser.ts';
import { ControllableCamera, makeJpegFrames, registryWith } from '../helpers/controllable-camera.ts';
import { advances, reachesState } from '../helpers/player-view.ts';
import { waitFor } from '../helpers/probe.ts';
import { startTestRelay } from '../helpers/relay.ts';

const cam = new ControllableCamera(makeJpegFrames(20), 10);
const relay = await startTestRelay(`
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
`, { adapters: registryWith({ cam }) });
const browser = await launchChromiumFor(t, () => relay.stop());

interface LiveInfo { engine: string; state: string; rebuilds: number; framesPainted: number; framesSkipped: number; errors: string[] }
const liveInfo = (page: Page): Promise<LiveInfo> => page.evaluate(() => (window as unknown as { relayPlayer: LiveInfo }).relayPlayer);

/** A page that fails the test on any console error or CSP violation. */
async function strictPage(t: { teardown(fn: () => Promise<void>): void }): Promise<{ page: Page; problems: string[] }> {
  const page = await browser.newPage({ viewport: { width: 800, height: 900 } });
  const problems: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error') problems.push(message.text());
  });
  page.on('pageerror', (error) => problems.push(error.message));
  t.teardown(() => page.close());
  return { page, problems };
}

t.test('the WebSocket player linked from / plays by itself with WebCodecs, and recovers from a camera outage', async (t) => {
  const index = await browser.newPage();
  await index.goto(`${relay.baseUrl}/`);
  const linked = await index.getAttribute('section[data-camera="cam"] a[href="/player/cam.flv.live"]', 'href');
  await index.close();
  t.equal(linked, '/player/cam.flv.live', 'the index links the live player beside the stream');
  const { page, problems } = await strictPage(t);
  const opened = Date.now();
  await page.goto(`${relay.baseUrl}${linked}`);
  await reachesState(page, 'playing', 30_000);
  t.comment(`first frame painted ${Date.now() - opened} ms after the page was opened (under test load)`);
  const before = await liveInfo(page);
  t.equal(before.engine, 'webcodecs', 'decoded with WebCodecs');
  await waitFor(async () => (await liveInfo(page)).framesPainted >= before.framesPainted + 20, 10_000, '20 more frames painted');
  const size = await page.evaluate(() => {
    const canvas = document.getElementById('canvas') as HTMLCanvasElement;
    return { width: canvas.width, height: canvas.height };
  });
  t.same(size, { width: 320, height: 240 }, 'the canvas takes the stream\'s size');
  const lit = await page.evaluate(() => {
    const canvas = document.getElementById('canvas') as HTMLCanvasElement;
    const pixels = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data;
    let sum = 0;
    for (let i = 0; i < pixels.length; i += 4) sum += pixels[i]! + pixels[i + 1]! + pixels[i + 2]!;
    return sum / (pixels.length / 4) / 3;
  });
  t.ok(lit > 20, `the canvas shows a picture (mean level ${lit.toFixed(0)})`);
  t.match(await page.textContent('#snippet-iframe'), /src="http:\/\/127\.0\.0\.1:\d+\/player\/cam\.flv\.live\?embed"/);
  await screenshot(page, 'live-player');

  cam.setMode('down');
  await waitFor(async () => (await liveInfo(page)).state !== 'playing', 15_000, 'the player to notice the outage');
  cam.setMode('up');
  const painted = (await liveInfo(page)).framesPainted;
  await reachesState(page, 'playing', 30_000);
  await waitFor(async () => (await liveInfo(page)).framesPainted >= painted + 20, 15_000, 'frames painted again after the outage');
  t.pass('playing again after the camera came back, without a page reload');
  t.same(problems, [], 'no console errors, no CSP violations');
});

t.test('without WebCodecs the same page plays the fMP4 mode through Media Source Extensions', async (t) => {
  const { page, problems } = await strictPage(t);
  // A browser without WebCodecs (older Safari): the player must fall back to MSE over the same WebSocket.
  await page.addInitScript(() => {
    delete (window as unknown as { VideoDecoder?: unknown }).VideoDecoder;
  });
  await page.goto(`${relay.baseUrl}/player/cam.flv.live`);
  const played = await advances(page, 3, 30_000);
  t.equal(played.engine, 'mse-ws', 'played through MSE');
  t.same([played.videoWidth, played.videoHeight], [320, 240]);
  const ahead = await page.evaluate(() => {
    const video = document.querySelector('video')!;
    return video.buffered.end(video.buffered.length - 1) - video.currentTime;
  });
  t.ok(ahead < 1, `the playhead stays near the live edge (${ahead.toFixed(2)} s buffered ahead)`);
  t.same(problems, [], 'no console errors, no CSP violations');
});
