import t from 'tap';
import { launchChromiumFor, screenshot } from '../helpers/browser.ts';
import { advances } from '../helpers/player-view.ts';
import { childFfmpegProcesses } from '../helpers/probe.ts';
import { startTestRelay } from '../helpers/relay.ts';

const relay = await startTestRelay(`
# These pages' own players; WebRTC first is test/player/webrtc-first.test.ts.
WebRTC no
<Camera test>
  Source testsrc://?size=320x240&rate=10
</Camera>
<Stream test.m3u8>
  Feed test
  VideoFrameRate 10
  VideoBitRate 300
  HLSSegmentTime 1
  LowLatency yes
</Stream>
<Stream plain.m3u8>
  Feed test
  VideoFrameRate 10
  VideoBitRate 300
  HLSSegmentTime 1
</Stream>
`);
const browser = await launchChromiumFor(t, () => relay.stop());

interface LowLatencyView {
  lowLatency: boolean;
  engine: string;
  mode: boolean | null;
}
const lowLatencyView = (page: import('playwright-core').Page): Promise<LowLatencyView> =>
  page.evaluate(() => {
    const info = (window as unknown as { relayPlayer: { lowLatency: boolean; engine: string; lowLatencyMode?: boolean } }).relayPlayer;
    return { lowLatency: info.lowLatency, engine: info.engine, mode: info.lowLatencyMode ?? null };
  });

t.test('an LL-HLS stream plays from its page as linked, with hls.js in low-latency mode', async (t) => {
  const stat = (await (await fetch(`${relay.baseUrl}/stat.json`)).json()) as { streams: Array<{ name: string; lowLatency: boolean }> };
  t.same(stat.streams.map((stream) => [stream.name, stream.lowLatency]).sort(), [['plain.m3u8', false], ['test.m3u8', true]], '/stat.json says which is LL-HLS');
  const page = await browser.newPage({ viewport: { width: 800, height: 700 } });
  t.teardown(() => page.close());
  await page.goto(`${relay.baseUrl}/player/test.m3u8`);
  const played = await advances(page, 3, 30_000);
  t.equal(played.videoWidth, 320);
  t.same(await lowLatencyView(page), { lowLatency: true, engine: 'hlsjs', mode: true }, 'hls.js, lowLatencyMode on');
  await screenshot(page, 'player-ll-hls');
});

t.test('a plain HLS stream keeps the standard settings', async (t) => {
  const page = await browser.newPage();
  t.teardown(() => page.close());
  await page.goto(`${relay.baseUrl}/player/plain.m3u8?engine=hlsjs`);
  await advances(page, 2, 30_000);
  t.same(await lowLatencyView(page), { lowLatency: false, engine: 'hlsjs', mode: false }, 'lowLatencyMode off');
});

t.test('the LL-HLS player resumes by itself after the camera and the encoder are killed', async (t) => {
  // Guards recovery of the low-latency player from a camera outage and an encoder restart under it.
  const page = await browser.newPage();
  t.teardown(() => page.close());
  await page.goto(`${relay.baseUrl}/player/test.m3u8`);
  await advances(page, 2, 30_000);
  for (const [what, pattern] of [['camera', /lavfi/], ['encoder', /libx264/]] as const) {
    const victims = childFfmpegProcesses(process.pid).filter((child) => pattern.test(child.cmdline));
    t.ok(victims.length >= 1, `${what}: ${victims.length} ffmpeg killed`);
    for (const victim of victims) process.kill(victim.pid, 'SIGKILL');
    const resumed = await advances(page, 3, 60_000);
    t.equal(resumed.state, 'playing', `plays again after the ${what} was killed`);
  }
});
