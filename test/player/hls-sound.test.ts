import t from 'tap';
import { GstRtspServer } from '../adapters/rtsp/gst-server.ts';
import { launchChromiumFor, watchedContext } from '../helpers/browser.ts';
import { advances } from '../helpers/player-view.ts';
import { startTestRelay } from '../helpers/relay.ts';
import { soundPeak, tapVideoSound } from '../helpers/web-audio.ts';

/** RTSP cameras with a 1 kHz tone: AAC (copied into HLS) and PCMA (converted to AAC once for the camera). */
const cameras = ['aac', 'pcma'] as const;
const servers = await Promise.all(cameras.map((audio) => GstRtspServer.start({ codec: 'h264', fps: 10, audio })));

function hlsStream(name: string, camera: string, lowLatency: boolean): string {
  return `<Stream ${name}>\n Feed ${camera}\n VideoFrameRate 10\n VideoSize 320x240\n VideoBitRate 300\n HLSSegmentTime 1\n${lowLatency ? ' LowLatency yes\n' : ''}</Stream>\n`;
}

const streams = cameras.flatMap((camera) => [
  [`${camera}.m3u8`, `${camera} camera, HLS (MPEG-TS)`, hlsStream(`${camera}.m3u8`, camera, false)],
  [`${camera}-ll.m3u8`, `${camera} camera, LL-HLS (fMP4)`, hlsStream(`${camera}-ll.m3u8`, camera, true)],
] as const);

const relay = await startTestRelay(`
# These tests are about hls.js, not the WebRTC player the pages would try first.
WebRTC no
${cameras.map((camera, i) => `<Camera ${camera}>\n Source ${servers[i]!.url}\n</Camera>\n`).join('')}${streams.map(([, , conf]) => conf).join('')}`);
const browser = await launchChromiumFor(t, () => relay.stop(), ...servers.map((server) => () => server.stop()));

t.test('hls.js plays HLS and LL-HLS of RTSP cameras with AAC and with PCMA: unmuted by the button, Web Audio hears the tone', async (t) => {
  const { context, problems } = await watchedContext(browser);
  t.teardown(() => context.close());
  // All pages at once: the test waits for each player's start only once.
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
