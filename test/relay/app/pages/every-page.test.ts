// Guards pages broken by the relay's own Content-Security-Policy (inline styles refused: a timeline piled up at the
// left edge, a wall stuck at two columns) and any page that logs an error when opened as a person would.
import t from 'tap';
import { copyFile, mkdir, utimes } from 'node:fs/promises';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { segmentRelativePath } from '../../../../relay/recording/names.ts';
import { launchChromiumFor, screenshot, watchedContext as watchedContextOf } from '../../../helpers/browser.ts';
import { startTestRelay, syntheticConfig } from '../../../helpers/relay.ts';
import { makeSegmentFile, tempDir } from '../../recording/fixtures.ts';
import { endWebRtc } from '../../../helpers/whep-client.ts';

// The player pages play over WebRTC first: node-datachannel keeps the process alive unless it is ended.
t.teardown(endWebRtc);

// Three recordings of yesterday (UTC), at 03:00, 09:00 and 15:00: three spans, far apart on the day's timeline.
const DAY_MS = 86_400_000;
const yesterday = Math.floor(Date.now() / DAY_MS) * DAY_MS - DAY_MS;
const HOURS = [3, 9, 15];
const records = await tempDir('relay-every-page-');
const sample = join(records.dir, 'sample.mp4');
await makeSegmentFile(sample, 3);
for (const hour of HOURS) {
  const start = yesterday + hour * 3_600_000;
  const path = join(records.dir, segmentRelativePath('test', start));
  await mkdir(join(path, '..'), { recursive: true });
  await copyFile(sample, path);
  await utimes(path, new Date(start + 3000), new Date(start + 3000));
}
// The same recording, as a file the VOD player page plays.
const media = await tempDir('relay-every-page-media-');
await copyFile(sample, join(media.dir, 'movie.mp4'));

const relay = await startTestRelay(`RecordPath ${records.dir}
RecordMinFreeSpace 0
MediaPath ${media.dir}
${syntheticConfig({ rate: 10 })}
<Stream test-ll.m3u8>
  Feed test
  VideoFrameRate 10
  VideoSize 320x240
  VideoBitRate 300
  LowLatency yes
</Stream>
`);
const browser = await launchChromiumFor(t, () => relay.stop(), () => records.cleanup(), () => media.cleanup());
const watchedContext = () => watchedContextOf(browser);

/** The pages a person opens, as linked from `/` and typed from the README, with no query and nobody pressing play. */
const PAGES: Array<{ path: string; settled: (page: Page) => Promise<unknown> }> = [
  { path: '/', settled: (page) => page.waitForSelector('.cameras[data-states-at] section[data-camera="test"] img.thumbnail[data-refreshed]', { timeout: 15_000 }) },
  { path: '/wall', settled: (page) => page.waitForSelector('.wall[data-states-at] img.tile-image[data-refreshed]', { timeout: 15_000 }) },
  { path: '/stat.html', settled: (page) => page.waitForSelector('#status[data-updated]', { timeout: 15_000 }) },
  ...['test.flv', 'test.m3u8', 'test-ll.m3u8'].map((name) => ({
    path: `/player/${name}`,
    settled: (page: Page) => page.waitForFunction(() => (window as unknown as { relayPlayer?: { state: string } }).relayPlayer?.state === 'playing', undefined, { timeout: 30_000 }),
  })),
  { path: '/recordings/test', settled: (page) => page.waitForSelector('.timeline .span', { timeout: 10_000 }) },
  { path: '/player/vod/movie.mp4', settled: (page) => page.waitForFunction(() => (window as unknown as { relayVodPlayer?: { state: string } }).relayVodPlayer?.state === 'ready', undefined, { timeout: 20_000 }) },
];

// Each test has its own browser context or page on the shared relay: the two short ones run beside the long walk.
t.jobs = 3;

t.test('every page opens with no CSP violation, console error or page error', async (t) => {
  const { context, problems } = await watchedContext();
  t.teardown(() => context.close());
  const page = await context.newPage();
  for (const { path, settled } of PAGES) {
    const response = await page.goto(`${relay.baseUrl}${path}`);
    t.equal(response?.status(), 200, `${path} answers`);
    t.ok(response?.headers()['content-security-policy']?.includes("style-src 'self'"), `${path} carries the CSP`);
    await settled(page);
    // Another refresh cycle or two of the page's scripts (thumbnails, states, status) after it settled.
    await page.waitForTimeout(1500);
    await screenshot(page, `every-page${path.replaceAll(/[/.]/g, '-')}`);
  }
  t.same(problems, [], 'no page complained');
});

t.test('the recordings timeline places each span at its time of day and plays the one clicked', async (t) => {
  const { context, problems } = await watchedContext();
  t.teardown(() => context.close());
  const page = await context.newPage();
  await page.goto(`${relay.baseUrl}/recordings/test`);
  await page.waitForSelector('.timeline .span');
  const timeline = await page.$eval('.timeline', (element) => element.getBoundingClientRect().toJSON() as DOMRect);
  const spans = await page.$$eval('.timeline .span', (elements) => elements.map((element) => element.getBoundingClientRect().left));
  t.equal(spans.length, HOURS.length, 'one span per recording');
  const fractions = spans.map((left) => (left - timeline.left) / timeline.width);
  HOURS.forEach((hour, index) => t.ok(Math.abs(fractions[index]! - hour / 24) < 0.01, `span ${index} at ${hour}:00 (${fractions[index]!.toFixed(3)} of the day)`));
  const hourMarks = await page.$$eval('.timeline .hour', (elements) => new Set(elements.map((element) => Math.round(element.getBoundingClientRect().left))).size);
  t.equal(hourMarks, 25, 'the 25 hour marks sit apart');
  await page.click('.timeline .span >> nth=1');
  await page.waitForFunction(() => (document.getElementById('playback') as HTMLVideoElement).currentTime > 0.3, undefined, { timeout: 20_000 });
  const played = await page.$eval('#playback', (video) => decodeURIComponent((video as HTMLVideoElement).currentSrc));
  t.match(played, new RegExp(`start=${new Date(yesterday + 9 * 3_600_000).toISOString().replace('.', '\\.')}`), 'the 09:00 recording plays');
  t.same(problems, []);
  await screenshot(page, 'recordings-timeline');
});

t.test('the wall has as many columns as its tile count asks for', async (t) => {
  const page = await browser.newPage({ viewport: { width: 900, height: 700 } });
  t.teardown(() => page.close());
  const columns = async (query: string): Promise<number> => {
    await page.goto(`${relay.baseUrl}/wall${query}`);
    return page.$$eval('figure.tile', (tiles) => new Set(tiles.map((tile) => Math.round(tile.getBoundingClientRect().left))).size);
  };
  t.equal(await columns('?cameras=test'), 1, 'one tile: one column');
  t.equal(await columns('?cameras=a,b,c,d,e'), 3, 'five tiles: three columns');
  t.equal(await columns('?cameras=a,b,c,d,e,f,g,h,i,j,k,l,m,n,o,p'), 4, 'sixteen tiles: four columns');
});
