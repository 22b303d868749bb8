import t from 'tap';
import type { Page } from 'playwright-core';
import { launchChromium, screenshot } from '../helpers/browser.ts';
import { ControllableCamera, makeJpegFrames, registryWith } from '../helpers/controllable-camera.ts';
import { advances, playerView, reachesState } from '../helpers/player-view.ts';
import { childFfmpegProcesses, waitFor } from '../helpers/probe.ts';
import { startTestRelay } from '../helpers/relay.ts';

const cam = new ControllableCamera(makeJpegFrames(20), 10);
const relay = await startTestRelay(
  `
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
  t.ok(await page.isVisible('#player-unmute'), 'a visible unmute control');
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

t.test('a camera outage shows as such, and the player resumes by itself', async (t) => {
  // Guards the endless "connecting…": a camera that is down must say so, and the video must come back unaided.
  const before = await playerView(page);
  cam.setMode('down');
  const down = await reachesState(page, 'down', 20_000);
  t.match(down.label, /^camera unavailable, retrying/, `says the camera is down: "${down.label}"`);
  t.ok(await page.isVisible('#player-state'), 'the state is visible over the video');
  await screenshot(page, 'flv-player-camera-down');
  await new Promise((resolve) => setTimeout(resolve, 3000));
  cam.setMode('up');
  const resumed = await advances(page, 3, 45_000);
  t.equal(resumed.state, 'playing', 'playing again');
  t.comment(`sessions rebuilt: ${resumed.rebuilds - before.rebuilds}`);
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
