import t from 'tap';
import { chmod, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatValue, type Format } from '../../../../lib/html.ts';
import { launchChromiumFor, screenshot } from '../../../helpers/browser.ts';
import { openViewer, waitFor, type OpenViewer } from '../../../helpers/probe.ts';
import { startTestRelay, syntheticConfig } from '../../../helpers/relay.ts';

// Two cameras: the synthetic one with every format, and a second one with only a snapshot stream.
const relay = await startTestRelay(`${syntheticConfig({ rate: 10 })}
<Camera yard>
  Source testsrc://?size=160x120&rate=2&pattern=smptebars
</Camera>
<Stream yard.jpg>
  Feed yard
</Stream>
`);
const browser = await launchChromiumFor(t, () => relay.stop());

t.test('the index page shows every camera with a thumbnail that refreshes itself', async (t) => {
  const page = await browser.newPage({ viewport: { width: 900, height: 600 } });
  t.teardown(() => page.close());
  await page.goto(`${relay.baseUrl}/`);
  const names = await page.$$eval('section.camera', (sections) => sections.map((section) => section.getAttribute('data-camera')));
  t.same(names.sort(), [...relay.relay.feeds.keys()].sort(), 'one card per configured camera');
  t.same(await page.$$eval('section[data-camera="test"] li a', (links) => links.map((link) => link.getAttribute('href'))), [
    '/test.flv', '/player/test.flv', '/player/test.live', '/player/test.webrtc',
    '/test.m3u8', '/player/test.m3u8', '/player/test.m3u8.live', '/player/test.m3u8.webrtc', '/test.mjpg', '/test.jpg',
  ]);
  const thumbnail = 'section[data-camera="test"] img.thumbnail';
  await page.waitForFunction((selector) => (document.querySelector(selector) as HTMLImageElement).naturalWidth > 0, thumbnail, { timeout: 10_000 });
  t.equal(await page.$eval(thumbnail, (img) => (img as HTMLImageElement).naturalWidth), 320, 'the snapshot is the camera image');
  t.equal(await page.$eval('section[data-camera="yard"] img.thumbnail', (img) => img.getAttribute('data-refresh')), '/yard.jpg');
  await page.waitForSelector(`${thumbnail}[data-refreshed]`, { timeout: 10_000 });
  t.match(await page.$eval(thumbnail, (img) => (img as HTMLImageElement).src), /\/test\.jpg\?t=\d+$/, 'reloaded with a fresh URL');
  await screenshot(page, 'index');
});

t.test('/stat.html shows the live camera and keeps the viewer count right without reloading', async (t) => {
  const viewers: OpenViewer[] = [];
  t.teardown(() => viewers.forEach((viewer) => viewer.close()));
  for (let i = 0; i < 3; i++) viewers.push(await openViewer(`${relay.baseUrl}/test.flv`));
  await waitFor(() => viewers.every((viewer) => viewer.bytes > 0), 15_000, 'the viewers receiving');
  const page = await browser.newPage({ viewport: { width: 1300, height: 900 } });
  t.teardown(() => page.close());
  await page.goto(`${relay.baseUrl}/stat.html`);
  const viewerCell = 'tr[data-key="stream/test.flv"] [data-f="viewers"]';
  t.equal(await page.textContent('tr[data-key="camera/test"] [data-f="stateText"]'), 'live');
  t.equal(await page.textContent(viewerCell), '3', 'three FLV viewers');
  t.equal(await page.textContent('table.server [data-f="viewers"]'), '3');
  await page.evaluate(() => ((window as unknown as { marker: number }).marker = 1));
  await page.click('#viewers-test\\.flv summary');

  // Refreshed in place: values change while the page (and its marker) stays.
  const updated = await page.getAttribute('#status', 'data-updated');
  await page.waitForFunction((before) => document.getElementById('status')!.getAttribute('data-updated') !== before, updated, { timeout: 10_000 });
  t.match(await page.textContent('tr[data-key="camera/test"] [data-f="inputFps"]'), /^\d+\.\d$/, 'input fps measured');

  viewers.pop()!.close();
  await page.waitForFunction((selector) => document.querySelector(selector)?.textContent === '2', viewerCell, { timeout: 10_000 });
  t.equal(await page.evaluate(() => (window as unknown as { marker?: number }).marker), 1, 'no page reload');
  t.equal(await page.$$eval('tr[data-key^="viewer/test.flv/"]', (rows) => rows.length), 2, 'viewer list follows');
  t.ok(await page.$eval('#viewers-test\\.flv', (details) => (details as HTMLDetailsElement).open), 'the open viewer list stays open');
  await screenshot(page, 'stat');

  // Cells refreshed in the browser read exactly as the server renders them.
  const samples: Array<[unknown, Format]> = [];
  for (const value of [null, 0, 1, 999.95, 1023, 1024, 1536, 5_000_000, 3e12, 12.345]) {
    for (const format of ['text', 'note', 'count', 'bytes', 'kbps', 'rate', 'seconds', 'percent'] as Format[]) samples.push([value, format]);
  }
  samples.push(['2024-05-06T07:08:09.123Z', 'time'], [null, 'time'], ['<b>&', 'text']);
  const inBrowser = await page.evaluate(
    (list) => list.map(([value, format]) => (window as unknown as { relayStatusFormat: (v: unknown, f: string) => string }).relayStatusFormat(value, format)),
    samples,
  );
  t.same(inBrowser, samples.map(([value, format]) => formatValue(value, format)), 'browser and server formats agree');

  // The same page without JavaScript is a complete table.
  const context = await browser.newContext({ javaScriptEnabled: false });
  t.teardown(() => context.close());
  const plain = await context.newPage();
  await plain.goto(`${relay.baseUrl}/stat.html`);
  t.equal(await plain.textContent(viewerCell), '2');
  t.equal(await plain.textContent('tr[data-key="camera/yard"] [data-f="stateText"]'), 'live');
});

t.test('hostile ffmpeg stderr shows as text on /stat.html, before and after a refresh', async (t) => {
  // Guards HTML injection through ffmpeg's stderr, in the server's rendering and in the in-page refresh.
  const dir = await mkdtemp(join(tmpdir(), 'relay-fake-ffmpeg-'));
  const fake = join(dir, 'ffmpeg');
  const hostile = `<script>alert("stderr")</script><img src=x onerror=alert(2)>`;
  await writeFile(fake, `#!/bin/sh\ncase " $* " in *" -f flv "*) echo '${hostile}' >&2; exit 1;; esac\nexec /usr/bin/ffmpeg "$@"\n`);
  await chmod(fake, 0o755);
  const broken = await startTestRelay(`FFmpegPath ${fake}\n${syntheticConfig({ rate: 5 })}`);
  t.teardown(() => broken.stop());
  const page = await browser.newPage({ viewport: { width: 1300, height: 900 } });
  t.teardown(() => page.close());
  const dialogs: string[] = [];
  page.on('dialog', (dialog) => {
    dialogs.push(dialog.message());
    void dialog.dismiss();
  });
  await page.goto(`${broken.baseUrl}/stat.html`);
  const tail = 'tr[data-key="stream/test.flv"] [data-f="ffmpeg.stderrTail"]';
  await page.waitForFunction((selector) => (document.querySelector(selector)?.textContent ?? '').includes('<script>'), tail, { timeout: 15_000 });
  t.ok((await page.textContent(tail))!.includes(hostile), 'stderr shown as text');
  t.equal(await page.$$eval('#status script, #status img', (nodes) => nodes.length), 0, 'no element made from stderr');
  await page.reload();
  t.ok((await page.textContent(tail))!.includes(hostile), 'server rendering shows it as text too');
  t.match(await page.textContent('tr[data-key="stream/test.flv"] [data-f="ffmpeg.lastError.message"]'), /exited with code 1/);
  await page.waitForTimeout(500);
  t.same(dialogs, [], 'no script ran');
  await screenshot(page, 'stat-ffmpeg-failing');
});
