// Sound and picture over WebRTC as Chromium plays them: the player page of a camera with sound (the synthetic camera's
// tone) is opened as linked, and Chromium's own receiver figures are sampled every 2 s: how far apart it plays the two
// tracks in sender time (estimatedPlayoutTimestamp, audio minus video), and the sound's jitter-buffer delay (where
// lip-sync holds the sound back to meet the picture). Run by hand:
//   node --import tsx bench/webrtc-av-sync.ts [seconds=30]
import { loadavg } from 'node:os';
import { launchChromium } from '../test/helpers/browser.ts';
import { advances } from '../test/helpers/player-view.ts';
import { startTestRelay } from '../test/helpers/relay.ts';
import { endWebRtc } from '../test/helpers/whep-client.ts';

const seconds = Number(process.argv[2] ?? 30);
const relay = await startTestRelay(`
<Camera tone>
  Source testsrc://?size=320x240&rate=25&audio=aac
</Camera>
<Stream tone.flv>
  Feed tone
  VideoFrameRate 25
  VideoSize 320x240
  VideoBitRate 300
</Stream>
`);
const browser = await launchChromium();
const load = loadavg()[0]!;
try {
  const page = await browser.newPage();
  await page.addInitScript(() => {
    const Original = window.RTCPeerConnection;
    const peers: RTCPeerConnection[] = [];
    (window as unknown as { peers: RTCPeerConnection[] }).peers = peers;
    window.RTCPeerConnection = class extends Original {
      constructor(config?: RTCConfiguration) {
        super(config);
        peers.push(this);
      }
    };
  });
  await page.goto(`${relay.baseUrl}/player/tone.flv`);
  await advances(page, 2, 30_000);
  console.log('| s | engine | audio - video playout ms | sound jitter buffer ms (last 2 s) | video jitter buffer ms (last 2 s) |');
  console.log('|---|---|---|---|---|');
  let previous: Record<string, { delay: number; emitted: number }> = {};
  for (let elapsed = 0; elapsed <= seconds; elapsed += 2) {
    const sample = await page.evaluate(async () => {
      const peers = (window as unknown as { peers: RTCPeerConnection[] }).peers;
      const out: Record<string, { playout: number; delay: number; emitted: number }> = {};
      (await peers.at(-1)!.getStats()).forEach((report) => {
        if (report.type === 'inbound-rtp') out[report.kind] = { playout: report.estimatedPlayoutTimestamp, delay: report.jitterBufferDelay, emitted: report.jitterBufferEmittedCount };
      });
      return { engine: (window as unknown as { relayPlayer: { engine: string } }).relayPlayer.engine, out };
    });
    const { audio, video } = sample.out;
    const buffered = (kind: 'audio' | 'video'): string => {
      const now = sample.out[kind];
      const before = previous[kind];
      if (!now || !before || now.emitted === before.emitted) return '-';
      return (((now.delay - before.delay) / (now.emitted - before.emitted)) * 1000).toFixed(0);
    };
    const offset = audio && video ? (audio.playout - video.playout).toFixed(0) : '-';
    if (elapsed > 0) console.log(`| ${elapsed} | ${sample.engine} | ${offset} | ${buffered('audio')} | ${buffered('video')} |`);
    previous = { ...(audio ? { audio } : {}), ...(video ? { video } : {}) };
    await new Promise((resolve) => setTimeout(resolve, 2000));
  }
  console.log(`\nload average (1 min) at start: ${load.toFixed(1)}`);
} finally {
  await browser.close();
  await relay.stop();
  endWebRtc();
}
process.exit(0);
