import t from 'tap';
import { launchChromiumFor, screenshot } from '../../helpers/browser.ts';
import { fetchBytes, waitFor } from '../../helpers/probe.ts';
import { startTestRelay } from '../../helpers/relay.ts';
import { tempDir } from './fixtures.ts';

const { dir, cleanup } = await tempDir('relay-record-page-');
const relay = await startTestRelay(`
RecordPath ${dir}
RecordMinFreeSpace 0
<Camera test>
  Source testsrc://?size=320x240&rate=10
  Record yes
  RecordSegmentSeconds 3
</Camera>
<Stream test.jpg>
  Feed test
</Stream>
`);
const browser = await launchChromiumFor(t, () => relay.stop(), cleanup);

await waitFor(async () => {
  const list = JSON.parse((await fetchBytes(`${relay.baseUrl}/record/list?camera=test`)).body.toString()) as Array<{ duration: number }>;
  return (list[0]?.duration ?? 0) >= 7;
}, 40_000, '7 s recorded');

t.test('from /, the recordings page shows the day and plays a span when it is clicked', async (t) => {
  const page = await browser.newPage({ viewport: { width: 1000, height: 800 } });
  t.teardown(() => page.close());
  await page.goto(`${relay.baseUrl}/`);
  await page.click('section[data-camera="test"] a[href="/recordings/test"]');
  await page.waitForURL(/\/recordings\/test$/);
  t.match(await page.textContent('h1'), 'Recordings: test');
  t.equal(await page.locator('.timeline .span').count(), 1, 'one span on the timeline');
  const download = await page.getAttribute('ul.spans a', 'href');
  t.match(download, /^\/record\/get\?camera=test&start=\d{4}-\d{2}-\d{2}T[\d%A-F.]+Z&duration=\d+$/, 'a download link that works without JavaScript');
  await page.click('ul.spans button.play');
  await page.waitForFunction(() => {
    const video = document.getElementById('playback') as HTMLVideoElement;
    return video.currentTime > 1 && !video.paused;
  }, undefined, { timeout: 20_000 });
  const size = await page.$eval('#playback', (video) => [(video as HTMLVideoElement).videoWidth, (video as HTMLVideoElement).videoHeight]);
  t.same(size, [320, 240], 'the recording plays in the page');
  await page.click('.timeline .span');
  await page.waitForFunction(() => (document.getElementById('playback') as HTMLVideoElement).currentTime > 0.5, undefined, { timeout: 20_000 });
  t.pass('the timeline span plays too');
  await screenshot(page, 'recordings');
  await page.click('text=previous day');
  t.match(await page.textContent('ul.spans'), /nothing recorded on this day/, 'the previous day is empty');
});
