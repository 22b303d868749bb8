import t from 'tap';
import { GstRtspServer } from '../adapters/rtsp/gst-server.ts';
import { launchChromiumFor, watchedContext } from '../helpers/browser.ts';
import { advances } from '../helpers/player-view.ts';
import { waitFor } from '../helpers/probe.ts';
import { startTestRelay } from '../helpers/relay.ts';
import { listenAroundUnmute } from '../helpers/web-audio.ts';

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
${cameras.map((camera, i) => `<Camera ${camera}>\n Source ${servers[i]!.url}\n</Camera>\n`).join('')}${streams.map(([, , conf]) => conf).join('')}<Stream stat.json>\n Format status\n</Stream>\n`);
const browser = await launchChromiumFor(t, () => relay.stop(), ...servers.map((server) => () => server.stop()));

t.test('hls.js plays HLS and LL-HLS of RTSP cameras with AAC and with PCMA: unmuted by the button, Web Audio hears the tone', async (t) => {
  const { context, problems } = await watchedContext(browser);
  t.teardown(() => context.close());
  // Both cameras' sound out of its part first (PCMA: converted by an ffmpeg that starts after the picture), so that
  // there is sound to hear.
  await waitFor(async () => ((await (await fetch(`${relay.baseUrl}/stat.json`)).json()) as { encoders: Array<{ kind: string; framesOut: number }> })
    .encoders.filter((part) => part.kind === 'audio' && part.framesOut > 20).length === 2, 20_000, 'both cameras\' sound');
  // All pages at once: the test waits for each player's start only once.
  const pages = await Promise.all(streams.map(async ([stream]) => {
    const page = await context.newPage();
    await page.goto(`${relay.baseUrl}/player/${stream}?engine=hlsjs`);
    return page;
  }));
  const played = await Promise.all(pages.map((page) => advances(page, 2, 30_000)));
  // Each page's checks at once too: four players side by side would otherwise take four times the listening.
  const heard = await Promise.all(pages.map(async (page) => ({
    ...(await listenAroundUnmute(page)),
    errors: await page.evaluate(() => (window as unknown as { relayPlayer: { errors: string[] } }).relayPlayer.errors),
  })));
  for (const [i, [stream, kind]] of streams.entries()) {
    const { mutedPeak, peak, buttonShown, muted, errors } = heard[i]!;
    t.equal(played[i]!.engine, 'hlsjs', `${kind}: played by hls.js`);
    t.ok(played[i]!.muted, `${kind}: starts muted`);
    t.equal(mutedPeak, 0, `${kind}: muted, silence through Web Audio`);
    t.ok(peak > 0.05, `${kind}: unmuted, the tone through Web Audio (peak ${peak.toFixed(3)})`);
    t.notOk(buttonShown, `${kind}: the button goes once unmuted`);
    t.equal(muted, false, `${kind}: the video is unmuted`);
    // Guards: a PCMA camera's HLS began with segments from before its converted sound, and hls.js failed (bufferAppendError) at the sound's discontinuity.
    t.same(errors, [], `${kind}: hls.js met no fatal error`);
  }
  t.same(problems, [], 'no console errors');
});
