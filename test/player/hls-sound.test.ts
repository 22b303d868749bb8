import t from 'tap';
import { launchChromiumFor, watchedContext } from '../helpers/browser.ts';
import { advances } from '../helpers/player-view.ts';
import { startTestRelay } from '../helpers/relay.ts';
import { soundPeak, tapVideoSound } from '../helpers/web-audio.ts';

const relay = await startTestRelay(`
# These tests are about hls.js, not the WebRTC player the pages would try first.
WebRTC no
<Camera tone>
  Source testsrc://?size=320x240&rate=10&audio=aac
</Camera>
<Stream tone.m3u8>
  Feed tone
  VideoFrameRate 10
  VideoSize 320x240
  VideoBitRate 300
  HLSSegmentTime 1
</Stream>
<Stream tone-ll.m3u8>
  Feed tone
  VideoFrameRate 10
  VideoSize 320x240
  VideoBitRate 300
  HLSSegmentTime 1
  LowLatency yes
</Stream>
`);
const browser = await launchChromiumFor(t, () => relay.stop());

const streams = [
  ['tone.m3u8', 'HLS (MPEG-TS)'],
  ['tone-ll.m3u8', 'LL-HLS (fMP4)'],
] as const;

t.test('hls.js plays HLS and LL-HLS of a camera with sound: unmuted by the button, Web Audio hears the tone', async (t) => {
  const { context, problems } = await watchedContext(browser);
  t.teardown(() => context.close());
  // Both pages at once: the test waits for each player's start only once.
  const pages = await Promise.all(streams.map(async ([stream]) => {
    const page = await context.newPage();
    await page.goto(`${relay.baseUrl}/player/${stream}?engine=hlsjs`);
    return page;
  }));
  const played = await Promise.all(pages.map((page) => advances(page, 2, 30_000)));
  for (const [i, [, kind]] of streams.entries()) {
    const page = pages[i]!;
    t.equal(played[i]!.engine, 'hlsjs', `${kind}: played by hls.js`);
    t.ok(played[i]!.muted, `${kind}: starts muted`);
    await page.waitForSelector('#player-unmute', { state: 'visible', timeout: 15_000 });
    await tapVideoSound(page);
    t.equal(await soundPeak(page), 0, `${kind}: muted, silence through Web Audio`);
    await page.click('#player-unmute');
    const peak = await soundPeak(page);
    t.ok(peak > 0.05, `${kind}: unmuted, the tone through Web Audio (peak ${peak.toFixed(3)})`);
    t.notOk(await page.isVisible('#player-unmute'), `${kind}: the button goes once unmuted`);
    t.equal(await page.evaluate(() => document.querySelector('video')!.muted), false, `${kind}: the video is unmuted`);
    const errors = await page.evaluate(() => (window as unknown as { relayPlayer: { errors: string[] } }).relayPlayer.errors);
    t.same(errors, [], `${kind}: hls.js met no fatal error`);
  }
  t.same(problems, [], 'no console errors');
});
