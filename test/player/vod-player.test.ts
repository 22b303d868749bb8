import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import t from 'tap';
import type { Page } from 'playwright-core';
import { launchChromium, screenshot } from '../helpers/browser.ts';
import { makeTestMedia } from '../helpers/media.ts';
import { startTestRelay } from '../helpers/relay.ts';

const media = await makeTestMedia(4);
// The same H.264 in a Matroska file: browsers do not play it as a file, so the page falls back to its HLS package.
await promisify(execFile)('ffmpeg', ['-loglevel', 'error', '-y', '-i', join(media.dir, 'silent.mp4'), '-c', 'copy', join(media.dir, 'movie.mkv')]);
const relay = await startTestRelay(`MediaPath ${media.dir}\n`);
const browser = await launchChromium();
t.teardown(async () => {
  await browser.close();
  await relay.stop();
  await media.cleanup();
});

interface VodView {
  state: string;
  engine: string;
  duration: number;
  videoWidth: number;
  errors: string[];
}

const view = (page: Page): Promise<VodView> =>
  page.evaluate(() => {
    const video = document.querySelector('video')!;
    const info = (window as unknown as { relayVodPlayer: { state: string; engine: string; errors: string[] } }).relayVodPlayer;
    return { duration: video.duration, videoWidth: video.videoWidth, ...info };
  });

async function settled(page: Page): Promise<VodView> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const now = await view(page);
    if (now.state !== 'loading' || Date.now() > deadline) return now;
    await page.waitForTimeout(200);
  }
}

t.test('the VOD player page loads an MP4 directly and a Matroska file through its HLS package', async (t) => {
  const cases: Array<[string, string]> = [['movie.mp4', 'direct'], ['movie.mkv', 'native-hls']];
  for (const [file, engine] of cases) {
    const page = await browser.newPage({ viewport: { width: 900, height: 700 } });
    await page.goto(`${relay.baseUrl}/player/vod/${file}`);
    const loaded = await settled(page);
    t.equal(loaded.state, 'ready', `${file}: metadata loaded`);
    t.equal(loaded.engine, engine, `${file}: played by ${engine}`);
    t.ok(Math.abs(loaded.duration - 4) < 0.5, `${file}: duration ${loaded.duration} s`);
    t.equal(loaded.videoWidth, 320, `${file}: video width`);
    await screenshot(page, `vod-player-${file.replace('.', '-')}`);
    await page.close();
  }
});

t.test('a file the browser cannot play says so instead of spinning', async (t) => {
  const page = await browser.newPage();
  await page.goto(`${relay.baseUrl}/player/vod/notvideo.mp4`);
  const loaded = await settled(page);
  t.equal(loaded.state, 'error');
  t.match(await page.textContent('#player-state'), /cannot be played/);
  await page.close();
});
