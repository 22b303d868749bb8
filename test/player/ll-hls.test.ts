import t from 'tap';
import type { Page } from 'playwright-core';
import { launchChromiumFor, screenshot } from '../helpers/browser.ts';
import { waitFor } from '../helpers/probe.ts';
import { startTestRelay } from '../helpers/relay.ts';

const relay = await startTestRelay(`
# These pages' own players; WebRTC first is test/player/webrtc-first.test.ts.
WebRTC no
<Camera test>
  Source testsrc://?size=320x240&rate=10
</Camera>
<Stream ll.m3u8>
  Feed test
  VideoFrameRate 10
  VideoBitRate 300
  HLSSegmentTime 1
  LowLatency yes
</Stream>
`);
const browser = await launchChromiumFor(t, () => relay.stop());

interface LlView {
  currentTime: number;
  videoWidth: number;
  lowLatencyMode: boolean;
  parts: number;
  canBlockReload: boolean;
  latency: number;
  fatal: string;
}

const view = (page: Page): Promise<LlView> =>
  page.evaluate(() => {
    const state = window as unknown as { hls: { lowLatencyMode: boolean; latency: number; levels: Array<{ details?: { partList: unknown[] | null; canBlockReload: boolean } }> }; fatal: string };
    const details = state.hls.levels[0]?.details;
    const video = document.querySelector('video')!;
    return {
      currentTime: video.currentTime,
      videoWidth: video.videoWidth,
      lowLatencyMode: state.hls.lowLatencyMode,
      parts: details?.partList?.length ?? 0,
      canBlockReload: details?.canBlockReload ?? false,
      latency: state.hls.latency,
      fatal: state.fatal,
    };
  });

async function advances(page: Page, seconds: number, timeoutMs: number): Promise<LlView> {
  const start = (await view(page)).currentTime;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const now = await view(page);
    if (now.currentTime - start >= seconds) return now;
    if (Date.now() > deadline) throw new Error(`video did not advance ${seconds} s: ${JSON.stringify(now)}`);
    await page.waitForTimeout(250);
  }
}

t.test('hls.js plays the LL-HLS stream in low-latency mode with blocking reloads, and across an encoder restart', async (t) => {
  const page = await browser.newPage();
  t.teardown(() => page.close());
  const blocking: string[] = [];
  page.on('request', (request) => {
    if (request.url().includes('_HLS_msn=')) blocking.push(request.url());
  });
  // A page of one's own, as the README's embed snippet builds it: hls.js served by the relay, lowLatencyMode on.
  await page.setContent(`<video muted autoplay playsinline></video>
<script src="${relay.baseUrl}/assets/hls.min.js"></script>
<script>
  window.fatal = '';
  window.hls = new Hls({ lowLatencyMode: true });
  hls.on(Hls.Events.ERROR, function (event, data) { if (data.fatal) window.fatal = data.type + ' ' + data.details; });
  hls.loadSource('${relay.baseUrl}/ll.m3u8');
  hls.attachMedia(document.querySelector('video'));
</script>`);
  const played = await advances(page, 3, 30_000);
  t.equal(played.videoWidth, 320);
  t.ok(played.lowLatencyMode, 'hls.js is in low-latency mode');
  t.ok(played.canBlockReload, 'and sees CAN-BLOCK-RELOAD');
  t.ok(played.parts > 0, `and ${played.parts} parts`);
  t.ok(blocking.length > 0, `it made ${blocking.length} blocking playlist requests`);
  t.equal(played.fatal, '');
  t.comment(`hls.js latency estimate ${played.latency.toFixed(2)} s`);
  await screenshot(page, 'll-hls-hlsjs');

  const transcode = relay.relay.outputs.get('ll.m3u8')!.video!;
  const pid = transcode.pid!;
  process.kill(pid, 'SIGKILL');
  await waitFor(() => transcode.pid !== undefined && transcode.pid !== pid, 10_000, 'a new encoder');
  const resumed = await advances(page, 3, 40_000);
  t.equal(resumed.fatal, '', 'no fatal error across the discontinuity');
  t.equal(resumed.videoWidth, 320);
});

t.test('the LL-HLS player page catches up with the live edge after a stall', async (t) => {
  // Guards against hls.js staying as far behind as a stall left it (its default never speeds playback up).
  const page = await browser.newPage();
  t.teardown(() => page.close());
  await page.goto(`${relay.baseUrl}/player/ll.m3u8`);
  const behind = (): Promise<number> =>
    page.evaluate(() => {
      const video = document.querySelector('video')!;
      return video.seekable.length > 0 ? video.seekable.end(video.seekable.length - 1) - video.currentTime : Number.NaN;
    });
  await waitFor(async () => (await page.evaluate(() => document.querySelector('video')!.currentTime)) > 2, 30_000, 'the player playing');
  await page.waitForTimeout(3000);
  const settled = await behind();
  await page.evaluate(() => document.querySelector('video')!.pause());
  await page.waitForTimeout(4000);
  // Measured before playing on: the player may jump back as soon as it plays.
  const stalled = await behind();
  t.ok(stalled > settled + 3, `the stall left it ${stalled.toFixed(2)} s behind the edge (${settled.toFixed(2)} s before)`);
  await page.evaluate(() => document.querySelector('video')!.play());
  const deadline = Date.now() + 25_000;
  let now = stalled;
  while (Date.now() < deadline && now > settled + 1) {
    await page.waitForTimeout(500);
    now = await behind();
  }
  t.ok(now <= settled + 1, `back to ${now.toFixed(2)} s behind within ${((25_000 - (deadline - Date.now())) / 1000).toFixed(1)} s`);
});
