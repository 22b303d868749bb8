import t from 'tap';
import { launchChromiumFor, watchedContext } from '../helpers/browser.ts';
import { advances } from '../helpers/player-view.ts';
import { startTestRelay } from '../helpers/relay.ts';
import { soundPeak, tapVideoSound } from '../helpers/web-audio.ts';

t.test('the FLV player of a camera with sound: unmuted by its button, Web Audio hears the tone', async (t) => {
  const relay = await startTestRelay(`
<Camera tone>
  Source testsrc://?size=320x240&rate=10&audio=aac
</Camera>
<Stream tone.flv>
  Feed tone
  VideoFrameRate 10
  VideoSize 320x240
  VideoBitRate 300
  # This test is about the FLV player (mpegts.js), not the WebRTC one the page would try first.
  WebRTC no
</Stream>
`);
  const browser = await launchChromiumFor(t, () => relay.stop());
  const { context, problems } = await watchedContext(browser);
  const index = await context.newPage();
  await index.goto(`${relay.baseUrl}/`);
  const linked = await index.getAttribute('section[data-camera="tone"] a[href="/player/tone.flv"]', 'href');
  t.equal(linked, '/player/tone.flv', 'the index links the FLV player');
  const page = await context.newPage();
  await page.goto(`${relay.baseUrl}${linked}`);
  const played = await advances(page, 2, 30_000);
  t.ok(played.muted, 'starts muted');
  await page.waitForSelector('#player-unmute', { state: 'visible', timeout: 15_000 });
  await tapVideoSound(page);
  const mutedPeak = await soundPeak(page);
  t.equal(mutedPeak, 0, 'muted: silence through Web Audio');
  await page.click('#player-unmute');
  const peak = await soundPeak(page);
  t.ok(peak > 0.05, `unmuted: the tone through Web Audio (peak ${peak.toFixed(3)})`);
  t.notOk(await page.isVisible('#player-unmute'), 'the button goes once unmuted');
  t.equal(await page.evaluate(() => document.querySelector('video')!.muted), false);
  t.same(problems, [], 'no console errors');
});
