import t from 'tap';
import { GstRtspServer } from '../adapters/rtsp/gst-server.ts';
import { launchChromiumFor, watchedContext } from '../helpers/browser.ts';
import { advances } from '../helpers/player-view.ts';
import { startTestRelay } from '../helpers/relay.ts';
import { listenAroundUnmute } from '../helpers/web-audio.ts';

/** RTSP cameras with a 1 kHz tone: AAC (copied into FLV) and PCMA (converted to AAC once for the camera). */
const cameras = ['aac', 'pcma'] as const;

function flvStream(camera: string): string {
  // This test is about the FLV player (mpegts.js), not the WebRTC one the page would try first.
  return `<Stream ${camera}.flv>\n Feed ${camera}\n VideoFrameRate 10\n VideoSize 320x240\n VideoBitRate 300\n WebRTC no\n</Stream>\n`;
}

t.test('the FLV player of RTSP cameras with AAC and with PCMA: unmuted by its button, Web Audio hears the tone', async (t) => {
  const servers = await Promise.all(cameras.map((audio) => GstRtspServer.start({ codec: 'h264', fps: 10, audio })));
  const relay = await startTestRelay(`${cameras.map((camera, i) => `<Camera ${camera}>\n Source ${servers[i]!.url}\n</Camera>\n`).join('')}${cameras.map(flvStream).join('')}`);
  const browser = await launchChromiumFor(t, () => relay.stop(), ...servers.map((server) => () => server.stop()));
  const { context, problems } = await watchedContext(browser);
  const index = await context.newPage();
  await index.goto(`${relay.baseUrl}/`);
  const links = await Promise.all(cameras.map((camera) => index.getAttribute(`section[data-camera="${camera}"] a[href="/player/${camera}.flv"]`, 'href')));
  t.same(links, cameras.map((camera) => `/player/${camera}.flv`), 'the index links each camera\'s FLV player');
  // Both pages at once: the test waits for each player's start only once.
  const pages = await Promise.all(links.map(async (link) => {
    const page = await context.newPage();
    await page.goto(`${relay.baseUrl}${link}`);
    return page;
  }));
  const played = await Promise.all(pages.map((page) => advances(page, 2, 30_000)));
  // Each page's checks at once too, as the players play side by side.
  const heard = await Promise.all(pages.map((page) => listenAroundUnmute(page)));
  for (const [i, camera] of cameras.entries()) {
    const { mutedPeak, peak, buttonShown, muted } = heard[i]!;
    t.ok(played[i]!.muted, `${camera}: starts muted`);
    t.equal(mutedPeak, 0, `${camera}: muted, silence through Web Audio`);
    t.ok(peak > 0.05, `${camera}: unmuted, the tone through Web Audio (peak ${peak.toFixed(3)})`);
    t.notOk(buttonShown, `${camera}: the button goes once unmuted`);
    t.equal(muted, false, `${camera}: the video is unmuted`);
  }
  t.same(problems, [], 'no console errors');
});
