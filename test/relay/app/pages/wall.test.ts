import t, { type Test } from 'tap';
import type { Page } from 'playwright-core';
import { launchChromium, screenshot } from '../../../helpers/browser.ts';
import { advances } from '../../../helpers/player-view.ts';
import { startTestRelay } from '../../../helpers/relay.ts';

// Eight small synthetic cameras with snapshot streams: more than the six connections a browser opens to one host.
const names = ['c1', 'c2', 'c3', 'c4', 'c5', 'c6', 'c7', 'c8'];
// The FLV tile's own player (mpegts.js); WebRTC first is test/player/webrtc-first.test.ts.
const relay = await startTestRelay(
  'WebRTC no\n' + names
    .map((name) => `<Camera ${name}>\n  Source testsrc://?size=160x120&rate=5\n</Camera>\n<Stream ${name}.jpg>\n  Feed ${name}\n</Stream>\n`)
    .join('')
    // A camera with no snapshot stream: its tile plays its FLV stream's player instead.
    + '<Camera v>\n  Source testsrc://?size=160x120&rate=10\n</Camera>\n<Stream v.flv>\n  Feed v\n  VideoFrameRate 10\n  VideoBitRate 200\n</Stream>\n',
);
const browser = await launchChromium();
t.teardown(async () => {
  await browser.close();
  await relay.stop();
});

/** A fingerprint of what each tile shows now: its pixels, drawn on a canvas. */
const tilePixels = (page: Page): Promise<Record<string, string>> =>
  page.$$eval('figure.tile', (tiles) => {
    const out: Record<string, string> = {};
    for (const tile of tiles) {
      const img = tile.querySelector('img') as HTMLImageElement | null;
      if (!img || !img.naturalWidth) continue;
      const canvas = document.createElement('canvas');
      canvas.width = img.naturalWidth;
      canvas.height = img.naturalHeight;
      const context = canvas.getContext('2d')!;
      context.drawImage(img, 0, 0);
      const data = context.getImageData(0, 0, canvas.width, canvas.height).data;
      let hash = 0;
      for (let i = 0; i < data.length; i += 7) hash = (hash * 31 + data[i]!) | 0;
      out[tile.getAttribute('data-camera')!] = `${canvas.width}x${canvas.height}:${hash}`;
    }
    return out;
  });

async function imagesChange(t: Test, page: Page, expected: string[]): Promise<void> {
  await page.waitForFunction((count) => Array.from(document.querySelectorAll('figure.tile img')).filter((img) => (img as HTMLImageElement).naturalWidth > 0).length === count, expected.length, { timeout: 15_000 });
  const first = await tilePixels(page);
  t.same(Object.keys(first).sort(), [...expected].sort(), 'every tile shows an image');
  const changed = new Set<string>();
  const deadline = Date.now() + 10_000;
  while (changed.size < expected.length && Date.now() < deadline) {
    await page.waitForTimeout(500);
    const now = await tilePixels(page);
    for (const name of expected) if (now[name] && now[name] !== first[name]) changed.add(name);
  }
  t.same([...changed].sort(), [...expected].sort(), 'every tile\'s image changed over time');
}

t.test('/wall tiles the first four cameras 2x2 and keeps them moving', async (t) => {
  const page = await browser.newPage({ viewport: { width: 800, height: 600 } });
  t.teardown(() => page.close());
  await page.goto(`${relay.baseUrl}/wall`);
  t.same(await page.$$eval('figure.tile', (tiles) => tiles.map((tile) => tile.getAttribute('data-camera'))), ['c1', 'c2', 'c3', 'c4']);
  const boxes = await page.$$eval('figure.tile', (tiles) => tiles.map((tile) => { const r = tile.getBoundingClientRect(); return [Math.round(r.left), Math.round(r.top)]; }));
  t.equal(new Set(boxes.map(([left]) => left)).size, 2, 'two columns');
  t.equal(new Set(boxes.map(([, top]) => top)).size, 2, 'two rows');
  await imagesChange(t, page, ['c1', 'c2', 'c3', 'c4']);
  await screenshot(page, 'wall');
});

t.test('/wall?cameras= with eight cameras: all move, beyond six connections per host', async (t) => {
  const page = await browser.newPage({ viewport: { width: 900, height: 700 } });
  t.teardown(() => page.close());
  await page.goto(`${relay.baseUrl}/wall?cameras=${names.join(',')}`);
  t.equal(await page.$$eval('figure.tile', (tiles) => tiles.length), 8);
  await imagesChange(t, page, names);
  await screenshot(page, 'wall-eight');
});

t.test('a hostile ?cameras= shows no markup and no file, only unknown tiles', async (t) => {
  const page = await browser.newPage();
  t.teardown(() => page.close());
  const response = await page.goto(`${relay.baseUrl}/wall?cameras=${encodeURIComponent('<img src=x onerror=alert(1)>,../../etc/passwd,ghost,c2')}`);
  t.equal(response?.status(), 200);
  t.same(await page.$$eval('figure.tile', (tiles) => tiles.map((tile) => tile.getAttribute('data-camera'))), ['ghost', 'c2']);
  t.equal(await page.textContent('figure[data-camera="ghost"] .tile-none'), 'unknown camera');
  t.equal(await page.$$eval('img[src="x"]', (imgs) => imgs.length), 0);
});

t.test('a camera without a snapshot stream plays its FLV player in its tile', async (t) => {
  const page = await browser.newPage({ viewport: { width: 800, height: 600 } });
  t.teardown(() => page.close());
  await page.goto(`${relay.baseUrl}/wall?cameras=c1,v`);
  t.equal(await page.getAttribute('figure[data-camera="v"] iframe', 'src'), '/player/v.flv?embed');
  const frame = page.frames().find((candidate) => candidate.url().endsWith('/player/v.flv?embed'));
  t.ok(frame, 'the player loaded in the tile');
  const played = await advances(frame!, 2, 30_000);
  t.equal(played.engine, 'mpegts');
  await imagesChange(t, page, ['c1']);
  await screenshot(page, 'wall-with-player');
});
