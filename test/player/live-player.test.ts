import t from 'tap';
import { readFile } from 'node:fs/promises';
import type { Page } from 'playwright-core';
import { launchChromiumFor, screenshot, watchedContext } from '../helpers/browser.ts';
import { ControllableCamera, makeJpegFrames, registryWith } from '../helpers/controllable-camera.ts';
import { advances, playerView, reachesState } from '../helpers/player-view.ts';
import { childFfmpegProcesses, waitFor } from '../helpers/probe.ts';
import { startTestRelay, startTestRelayFor } from '../helpers/relay.ts';
import { H264_HELLO, openWs } from '../helpers/ws-client.ts';

const cam = new ControllableCamera(makeJpegFrames(20), 10);
const relay = await startTestRelay(`
<Camera cam>
  Source ctl://cam
  Timeout 2
</Camera>
<Stream cam.flv>
  Feed cam
  VideoFrameRate 10
  VideoSize 320x240
  VideoBitRate 300
</Stream>
<Stream cam.m3u8>
  Feed cam
  VideoFrameRate 10
  VideoSize 320x240
  VideoBitRate 300
</Stream>
`, { adapters: registryWith({ cam }) });
const browser = await launchChromiumFor(t, () => relay.stop());

interface LiveInfo { engine: string; state: string; rebuilds: number; framesPainted: number; framesSkipped: number; errors: string[] }
const liveInfo = (page: Page): Promise<LiveInfo> => page.evaluate(() => (window as unknown as { relayPlayer: LiveInfo }).relayPlayer);

/** A page that fails the test on any console error or CSP violation. */
async function strictPage(t: { teardown(fn: () => Promise<void>): void }): Promise<{ page: Page; problems: string[] }> {
  const page = await browser.newPage({ viewport: { width: 800, height: 900 } });
  const problems: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error') problems.push(message.text());
  });
  page.on('pageerror', (error) => problems.push(error.message));
  t.teardown(() => page.close());
  return { page, problems };
}

t.test('the WebSocket player linked from / plays by itself with WebCodecs, and recovers from a camera outage', async (t) => {
  const index = await browser.newPage();
  await index.goto(`${relay.baseUrl}/`);
  const linkedLive = await index.$$eval('section[data-camera="cam"] a', (links) => links.map((link) => link.getAttribute('href')).filter((href) => href?.endsWith('.live')));
  await index.close();
  // cam.flv and cam.m3u8 share the base name cam: the short name is the FLV stream's.
  t.same(linkedLive, ['/player/cam.live', '/player/cam.m3u8.live'], 'the index links the live player beside each stream, the FLV one by its short name');
  const linked = linkedLive[0]!;
  const { page, problems } = await strictPage(t);
  const opened = Date.now();
  await page.goto(`${relay.baseUrl}${linked}`);
  await reachesState(page, 'playing', 30_000);
  t.comment(`first frame painted ${Date.now() - opened} ms after the page was opened (under test load)`);
  const before = await liveInfo(page);
  t.equal(before.engine, 'webcodecs', 'decoded with WebCodecs');
  await waitFor(async () => (await liveInfo(page)).framesPainted >= before.framesPainted + 20, 10_000, '20 more frames painted');
  const size = await page.evaluate(() => {
    const canvas = document.getElementById('canvas') as HTMLCanvasElement;
    return { width: canvas.width, height: canvas.height };
  });
  t.same(size, { width: 320, height: 240 }, 'the canvas takes the stream\'s size');
  const lit = await page.evaluate(() => {
    const canvas = document.getElementById('canvas') as HTMLCanvasElement;
    const pixels = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data;
    let sum = 0;
    for (let i = 0; i < pixels.length; i += 4) sum += pixels[i]! + pixels[i + 1]! + pixels[i + 2]!;
    return sum / (pixels.length / 4) / 3;
  });
  t.ok(lit > 20, `the canvas shows a picture (mean level ${lit.toFixed(0)})`);
  t.match(await page.textContent('#snippet-iframe'), /src="http:\/\/127\.0\.0\.1:\d+\/player\/cam\.flv\.live\?embed"/);
  const stat = (await (await fetch(`${relay.baseUrl}/stat.json`)).json()) as { streams: Array<{ name: string; protocols: Record<string, { viewers: number }> }> };
  t.equal(stat.streams.find((stream) => stream.name === 'cam.flv')?.protocols.ws?.viewers, 1, 'the short name plays cam.flv over its WebSocket');
  await screenshot(page, 'live-player');

  cam.setMode('down');
  await waitFor(async () => (await liveInfo(page)).state !== 'playing', 15_000, 'the player to notice the outage');
  cam.setMode('up');
  const painted = (await liveInfo(page)).framesPainted;
  await reachesState(page, 'playing', 30_000);
  await waitFor(async () => (await liveInfo(page)).framesPainted >= painted + 20, 15_000, 'frames painted again after the outage');
  t.pass('playing again after the camera came back, without a page reload');
  t.same(problems, [], 'no console errors, no CSP violations');
});

t.test('without WebCodecs the same page plays the fMP4 mode through Media Source Extensions, near the live edge, and recovers from an encoder kill and a camera outage', async (t) => {
  const { page, problems } = await strictPage(t);
  // A browser without WebCodecs (older Safari): the player must fall back to MSE over the same WebSocket.
  await page.addInitScript(() => {
    delete (window as unknown as { VideoDecoder?: unknown }).VideoDecoder;
    // A delivery pause on demand (a lost packet's retransmit, a busy Wi-Fi): the page's WebSocket messages are held
    // until holdUntil (performance.now() ms), then handed over at once, in order.
    const page = window as unknown as { holdUntil: number; fastestRate: number; WebSocket: typeof WebSocket };
    page.holdUntil = 0;
    page.fastestRate = 0;
    document.addEventListener('ratechange', (event) => {
      page.fastestRate = Math.max(page.fastestRate, (event.target as HTMLMediaElement).playbackRate);
    }, true);
    page.WebSocket = class extends WebSocket {
      override set onmessage(handler: (event: MessageEvent) => void) {
        const held: MessageEvent[] = [];
        super.onmessage = (event) => {
          if (held.length === 0 && performance.now() >= page.holdUntil) return handler(event);
          if (held.push(event) === 1) setTimeout(() => held.splice(0).forEach(handler), page.holdUntil - performance.now());
        };
      }
    };
  });
  await page.goto(`${relay.baseUrl}/player/cam.flv.live`);
  const played = await advances(page, 3, 30_000);
  t.equal(played.engine, 'mse-ws', 'played through MSE');
  t.same([played.videoWidth, played.videoHeight], [320, 240]);
  const bufferedAhead = (): Promise<number> => page.evaluate(() => {
    const video = document.querySelector('video')!;
    return video.buffered.end(video.buffered.length - 1) - video.currentTime;
  });
  const ahead = await bufferedAhead();
  t.ok(ahead < 1, `the playhead stays near the live edge (${ahead.toFixed(2)} s buffered ahead)`);
  await page.evaluate(() => ((window as unknown as { marker: number }).marker = 1));

  // Guards the MSE player keeping for good a backlog under its 0.5 s jump threshold (a jump lands short of its mark,
  // a delivery pause leaves the frames it held): nothing played it down. A 0.35 s pause, then 3.5 s of play to catch
  // up, sampled over 2 s; the player settles near 0.1 s at 10 fps (0.17 s median at load 27), and held 0.3-0.4 s before.
  await page.evaluate(() => {
    const held = window as unknown as { holdUntil: number; fastestRate: number };
    held.holdUntil = performance.now() + 350;
    // The rate the video plays at now counts too: a player already catching up at 1.1x fires no ratechange until it is back at 1x.
    held.fastestRate = document.querySelector('video')!.playbackRate;
  });
  await page.waitForTimeout(3_500);
  const fastest = await page.evaluate(() => (window as unknown as { fastestRate: number }).fastestRate);
  t.ok(fastest > 1, `the backlog the pause left was played faster than real time (fastest rate from the pause on: ${fastest}x)`);
  const aheads: number[] = [];
  for (let i = 0; i < 10; i++) {
    aheads.push(await bufferedAhead());
    await page.waitForTimeout(200);
  }
  const median = [...aheads].sort((a, b) => a - b)[5]!;
  t.ok(median < 0.25, `buffered ahead 3.5 s after the pause: median ${median.toFixed(2)} s of ${aheads.map((a) => a.toFixed(2)).join(' ')}`);

  const encoders = childFfmpegProcesses(process.pid).filter((child) => child.cmdline.includes('libx264'));
  t.equal(encoders.length, 1, 'one encoder serves the stream');
  process.kill(encoders[0]!.pid, 'SIGKILL');
  await waitFor(() => childFfmpegProcesses(process.pid).some((child) => child.cmdline.includes('libx264') && child.pid !== encoders[0]!.pid), 20_000, 'a new encoder');
  // Less than a second is buffered: three more seconds of play are the new encoder's.
  await advances(page, 3, 30_000);
  t.pass('MSE plays on after the encoder was killed by SIGKILL');

  cam.setMode('down');
  await waitFor(async () => (await playerView(page)).state !== 'playing', 15_000, 'the player to notice the outage');
  cam.setMode('up');
  await advances(page, 3, 30_000);
  t.pass('MSE plays again after the camera came back');
  t.equal(await page.evaluate(() => (window as unknown as { marker?: number }).marker), 1, 'without a page reload');
  t.same(problems, [], 'no console errors, no CSP violations');
});

t.test('the example config: /player/test.live, clicked on /, plays by itself (WebCodecs, no query string, nothing pressed)', async (t) => {
  // relay.conf.example as shipped; only the ports that would collide with other relays on this machine change.
  const example = await readFile(new URL('../../relay.conf.example', import.meta.url), 'utf8');
  const conf = example
    .replace(/^HTTPPort 8090\b/m, 'HTTPPort 0')
    .replace(/^RTSPPort\s+\d+/m, 'RTSPPort 0')
    .replace(/^WebRTCUDPPort\s+\d+/m, 'WebRTCUDPPort 0');
  t.not(conf, example, 'the example config names the ports replaced');
  const shipped = await startTestRelayFor(t, conf);
  const { context, problems } = await watchedContext(browser);
  t.teardown(() => context.close());
  const page = await context.newPage();
  await page.goto(`${shipped.baseUrl}/`);
  await page.click('section[data-camera="test"] a[href="/player/test.live"]');
  await page.waitForURL(`${shipped.baseUrl}/player/test.live`);
  await reachesState(page, 'playing', 30_000);
  const before = await liveInfo(page);
  t.equal(before.engine, 'webcodecs', 'decoded with WebCodecs');
  await waitFor(async () => (await liveInfo(page)).framesPainted >= before.framesPainted + 25, 15_000, '25 more frames painted');
  t.same(await page.evaluate(() => [(document.getElementById('canvas') as HTMLCanvasElement).width, (document.getElementById('canvas') as HTMLCanvasElement).height]), [640, 480], 'the example stream\'s size');
  t.same(problems, [], 'no console errors, no CSP violations');
});

// Recovery from an encoder kill, end to end: the units' times are checked in detail by test/relay/ws/ws-restart.test.ts.
t.test('the WebCodecs player and a Node WebSocket client both play on after the stream encoder is killed by SIGKILL', async (t) => {
  const { page, problems } = await strictPage(t);
  await page.goto(`${relay.baseUrl}/player/cam.flv.live`);
  await reachesState(page, 'playing', 30_000);
  const client = await openWs(`${relay.baseUrl.replace('http', 'ws')}/cam.flv.ws`, H264_HELLO);
  t.teardown(() => client.socket.terminate());
  await waitFor(() => client.binaries.length >= 10, 10_000, 'the Node client to receive 10 units');
  const encoders = childFfmpegProcesses(process.pid).filter((child) => child.cmdline.includes('libx264'));
  t.equal(encoders.length, 1, 'one encoder serves the stream');
  // The index of the first unit after each later config message (this listener runs after the capture's own).
  const afterConfig: number[] = [];
  client.socket.on('message', (_data, isBinary) => {
    if (!isBinary && client.texts.at(-1)?.type === 'config') afterConfig.push(client.binaries.length);
  });
  // Killed as a unit arrives, so the camera frame it came from was sent already and the new encoder may start on it.
  const paintedBefore = (await liveInfo(page)).framesPainted;
  const unitsBefore = await new Promise<number>((resolve) => client.socket.once('message', () => {
    process.kill(encoders[0]!.pid, 'SIGKILL');
    resolve(client.binaries.length);
  }));

  await waitFor(() => afterConfig.length > 0, 20_000, 'a new config message after the encoder restarted');
  await waitFor(() => client.binaries.length >= afterConfig[0]! + 25, 20_000, 'the Node client to receive units again');
  t.equal(client.closed, undefined, "the Node client's connection stayed open across the restart");
  t.ok(afterConfig[0]! >= unitsBefore, 'the new config comes after the kill');
  const lastBefore = client.binaries[afterConfig[0]! - 1]!.readBigUInt64BE(4);
  const after = client.binaries.slice(afterConfig[0]);
  t.equal(after[0]![1]! & 1, 1, 'the units after the restart start at a keyframe');
  const stamps = after.map((unit) => unit.readBigUInt64BE(4));
  t.ok(stamps[0]! > lastBefore, `timestamps go on past the last one before the kill (${lastBefore} then ${stamps[0]} µs)`);
  t.ok(stamps.every((stamp, index) => index === 0 || stamp > stamps[index - 1]!), `timestamps keep rising after the restart (${stamps.length} units)`);
  const newEncoders = childFfmpegProcesses(process.pid).filter((child) => child.cmdline.includes('libx264'));
  t.ok(newEncoders.length === 1 && newEncoders[0]!.pid !== encoders[0]!.pid, 'a new encoder process serves the stream');

  await waitFor(async () => (await liveInfo(page)).framesPainted >= paintedBefore + 30, 30_000, 'the player to paint frames of the new encoder');
  const info = await liveInfo(page);
  t.equal(info.state, 'playing', 'the player plays again without a page reload');
  t.comment(`player rebuilds across the kill: ${info.rebuilds}, frames skipped: ${info.framesSkipped}`);
  t.same(problems, [], 'no console errors, no CSP violations');
});

t.test("docs/players.md: the 'which player to embed' table offers the WebSocket player, WebCodecs and its MSE fallback", async (t) => {
  const players = await readFile(new URL('../../docs/players.md', import.meta.url), 'utf8');
  const section = players.split(/^## /m).find((part) => part.startsWith('Which player to embed'));
  const rows = (section ?? '').split('\n').filter((line) => line.startsWith('| '));
  t.ok(rows.some((row) => row.includes('`/player/NAME.live`') && row.includes('WebCodecs')), 'a row embeds /player/NAME.live with WebCodecs');
  t.ok(rows.some((row) => row.includes('Media Source Extensions') && row.includes('WebSocket')), 'a row offers the same page over MSE');
});
