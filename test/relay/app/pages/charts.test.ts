import t from 'tap';
import { StatusHistory } from '../../../../relay/app/history.ts';
import { renderCharts, sparkline } from '../../../../relay/app/pages/charts.ts';
import { launchChromium, screenshot } from '../../../helpers/browser.ts';
import { waitFor } from '../../../helpers/probe.ts';
import { startTestRelay, syntheticConfig } from '../../../helpers/relay.ts';
import { snapshotOf } from '../../../helpers/status-snapshot.ts';

// The last-hour charts of /stat.html: inline SVG drawn by the relay, refreshed by player/status.js.

t.test('a sparkline puts a known series where it belongs: newest right, zero at the bottom, peak at the top', async (t) => {
  t.equal(sparkline([0, 5, 10], 3, 'x').text,
    '<svg class="spark" viewBox="0 0 180 36" width="180" height="36" role="img" aria-label="x"><title>x</title>'
    + '<polyline points="0,35 90,18 180,1"/></svg>');
  t.match(sparkline([4], 5, 'one').text, /<circle cx="180" cy="1" r="1.5"\/>/, 'a single sample is a dot at the right edge');
  const gapped = sparkline([2, 2, null, 1, 0], 5, 'gap').text;
  t.match(gapped, /<polyline points="0,1 45,1"\/><polyline points="135,18 180,35"\/>/, 'a gap breaks the line');
  t.match(sparkline([0, 0], 2, 'zeros').text, /points="0,35 180,35"/, 'all zero lies on the bottom');
  t.match(sparkline([null, null], 2, 'none').text, /<title>none<\/title><\/svg>/, 'nothing measured draws nothing');
});

t.test('the charts section shows each owner\'s series with latest and peak values', async (t) => {
  const history = new StatusHistory(4);
  for (const viewers of [1, 3, 2]) {
    history.record(snapshotOf({ viewers, outKbps: viewers * 100, cameras: [{ name: 'gate', inputFps: 10, viewers }], streams: [{ name: 'gate.flv', viewers, outKbps: 50 }] }));
  }
  const text = renderCharts(history).text;
  t.match(text, /<th>camera gate<\/th>/);
  t.match(text, /<th>stream gate\.flv<\/th>/);
  t.match(text, /aria-label="Viewers of all streams, last hour: now 2, peak 3"/);
  t.match(text, /aria-label="Bandwidth out of all streams, last hour: now 200\.0 kbit\/s, peak 300\.0 kbit\/s"/);
  t.match(text, /data-series="camera\/gate\/inputFps"><svg[^>]*>.*points="60,1 120,1 180,1"/s, 'the camera\'s input rate');
  t.match(text, /data-series="stream\/gate\.flv\/viewers"><svg[^>]*>.*points="60,23\.7 120,1 180,12\.3"/s, '1, 3, 2 viewers');
  t.equal((text.match(/<svg /g) ?? []).length, 2 + 2 + 2, 'server: viewers, out; camera: viewers, fps; stream: viewers, out');
});

t.test('an HLS stream gets an origin requests chart', async (t) => {
  const history = new StatusHistory(4);
  [0, 20, 30].forEach((total, i) => history.record(snapshotOf({ viewers: 0, outKbps: 0,
    streams: [{ name: 'gate.m3u8', viewers: 0, outKbps: 0, originRequests: { playlist: total, segment: 0, part: 0, init: 0 } }] }), i * 10_000));
  const text = renderCharts(history).text;
  t.match(text, /<th>Origin requests\/s<\/th>/);
  t.match(text, /data-series="stream\/gate\.m3u8\/originRequestsPerSecond"><svg[^>]*aria-label="Origin requests\/s of stream gate\.m3u8, last hour: now 1\.0, peak 2\.0">.*points="120,1 180,18"/s);
});

t.test('hostile names are escaped in headings, labels and attributes', async (t) => {
  const history = new StatusHistory(4);
  const name = '"><script>alert(1)</script><svg onload=alert(2)>';
  history.record(snapshotOf({ viewers: 1, outKbps: 1, cameras: [{ name, inputFps: 1, viewers: 1 }], streams: [{ name, viewers: 1, outKbps: 1 }] }));
  const text = renderCharts(history).text;
  t.notMatch(text, /<script|<svg onload/, 'no markup of the name survives');
  t.match(text, /<th>camera &quot;&gt;&lt;script&gt;alert\(1\)&lt;\/script&gt;&lt;svg onload=alert\(2\)&gt;<\/th>/);
  t.match(text, /data-series="stream\/&quot;&gt;&lt;script&gt;/);
});

t.test('/stat.html carries the charts, and the page swaps in fresh ones after a new sample', async (t) => {
  const relay = await startTestRelay(syntheticConfig({ rate: 10 }));
  t.teardown(() => relay.stop());
  const html = await (await fetch(`${relay.baseUrl}/stat.html`)).text();
  t.match(html, /<section id="charts" data-refresh-ms="10000" data-sampled-at="\d+">/);
  for (const owner of ['server', 'camera test', 'stream test.flv', 'stream test.m3u8', 'stream test.mjpg']) {
    t.match(html, new RegExp(`<th>${owner.replace('.', '\\.')}</th>`), `a chart row for ${owner}`);
  }
  t.match(html, /data-series="stream\/test\.m3u8\/originRequestsPerSecond"/, 'the HLS stream has an origin requests chart');
  const browser = await launchChromium();
  t.teardown(() => browser.close());
  const page = await browser.newPage({ viewport: { width: 1100, height: 900 } });
  await page.goto(`${relay.baseUrl}/stat.html`);
  const fpsShapes = 'td[data-series="camera/test/inputFps"] svg :is(polyline, circle)';
  t.equal((await page.$$(fpsShapes)).length, 0, 'the first sample, taken at start, has no input rate yet');
  const first = await page.$eval('#charts', (element) => element.getAttribute('data-sampled-at'));
  await page.waitForFunction((before) => document.getElementById('charts')?.getAttribute('data-sampled-at') !== before, first, { timeout: 30_000 });
  t.equal((await page.$$(fpsShapes)).length, 1, 'the next sample\'s input rate is drawn, without reloading the page');
  await waitFor(async () => (await page.$$('#charts svg.spark')).length >= 8, 5000, 'the charts');
  await screenshot(page, 'stat-charts');
});
