// Guards: a camera with sound played over WebRTC (the player pages try it first) was heard by nobody: WebRTC carried only video.
import t from 'tap';
import type { Page } from 'playwright-core';
import { launchChromiumFor, watchedContext } from '../helpers/browser.ts';
import { advances } from '../helpers/player-view.ts';
import { startTestRelay } from '../helpers/relay.ts';
import { endWebRtc } from '../helpers/whep-client.ts';

t.teardown(endWebRtc);

interface EncoderRow {
  readonly kind: string;
  readonly codec: string;
  readonly camera: string;
  readonly state: string;
  readonly framesOut: number;
  readonly streams: string[];
}

/** The loudest sample over a second of the stream the page's video plays. */
async function tonePeak(page: Page): Promise<number> {
  // Chromium gives Web Audio no sound from an element playing a remote WebRTC stream (it plays such sound itself): the
  // analyser taps the stream the element plays, and the element's muted state is what the viewer hears of it.
  return page.evaluate(async () => {
    const audio = new AudioContext();
    const analyser = audio.createAnalyser();
    analyser.fftSize = 2048;
    audio.createMediaStreamSource(document.querySelector('video')!.srcObject as MediaStream).connect(analyser);
    await audio.resume();
    const samples = new Float32Array(analyser.fftSize);
    let loudest = 0;
    for (let i = 0; i < 20; i++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      analyser.getFloatTimeDomainData(samples);
      for (const sample of samples) loudest = Math.max(loudest, Math.abs(sample));
    }
    await audio.close();
    return loudest;
  });
}

t.test('the FLV player page of a camera with sound, as linked from /, plays WebRTC with the sound: the tone in its stream, the unmute button, muted until pressed', async (t) => {
  const relay = await startTestRelay(`
<Camera tone>
  Source testsrc://?size=320x240&rate=10&audio=aac
</Camera>
<Stream tone.flv>
  Feed tone
  VideoFrameRate 10
  VideoSize 320x240
  VideoBitRate 300
</Stream>
<Camera lazy>
  Source testsrc://?size=320x240&rate=10&audio=aac
  OnDemand yes
</Camera>
<Stream lazy.flv>
  Feed lazy
  VideoFrameRate 10
  VideoSize 320x240
  VideoBitRate 300
</Stream>
<Camera hush>
  Source testsrc://?size=320x240&rate=10&audio=none
  OnDemand yes
</Camera>
<Stream hush.flv>
  Feed hush
  VideoFrameRate 10
  VideoSize 320x240
  VideoBitRate 300
</Stream>
<Stream silent.flv>
  Feed tone
  VideoFrameRate 10
  VideoSize 320x240
  VideoBitRate 300
  Audio no
</Stream>
`);
  const browser = await launchChromiumFor(t, () => relay.stop());
  const { context, problems } = await watchedContext(browser);
  const index = await context.newPage();
  await index.goto(`${relay.baseUrl}/`);
  const linked = await index.getAttribute('section[data-camera="tone"] a[href="/player/tone.flv"]', 'href');
  t.equal(linked, '/player/tone.flv', 'the index links the FLV player, with no query string');
  const page = await context.newPage();
  await page.goto(`${relay.baseUrl}${linked}`);
  const played = await advances(page, 2, 30_000);
  t.equal(played.engine, 'webrtc', 'played by WebRTC');
  t.ok(played.muted, 'starts muted');
  await page.waitForSelector('#player-unmute', { state: 'visible', timeout: 15_000 });
  const tracks = await page.evaluate(() => ((document.querySelector('video')!.srcObject as MediaStream).getTracks().map((track) => track.kind).sort()));
  t.same(tracks, ['audio', 'video'], 'one MediaStream with both tracks');
  const peak = await tonePeak(page);
  t.ok(peak > 0.05, `the tone in the stream the page plays (peak ${peak.toFixed(3)})`);
  t.equal(await page.evaluate(() => document.querySelector('video')!.muted), true, 'muted until the viewer asks');
  await page.click('#player-unmute');
  t.notOk(await page.isVisible('#player-unmute'), 'the button goes once unmuted');
  t.equal(await page.evaluate(() => document.querySelector('video')!.muted), false, 'unmuted: the element plays the sound');
  t.equal(await page.evaluate(() => (window as unknown as { relayPlayer: { engine: string } }).relayPlayer.engine), 'webrtc', 'still WebRTC');

  const encoders = async (): Promise<EncoderRow[]> => ((await (await fetch(`${relay.baseUrl}/stat.json`)).json()) as { encoders: EncoderRow[] }).encoders;
  const opus = (await encoders()).find((row) => row.codec === 'opus');
  t.match(opus, { kind: 'audio', camera: 'tone', state: 'live', streams: ['tone.flv'] }, 'one Opus converter on /stat.json');
  t.ok(opus && opus.framesOut > 50, `it made Opus packets (${opus?.framesOut})`);
  await page.close();
  // The viewer left (the page DELETEs its session): the converter stops with it.
  const deadline = Date.now() + 10_000;
  while ((await encoders()).some((row) => row.codec === 'opus') && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 200));
  t.notOk((await encoders()).some((row) => row.codec === 'opus'), 'no Opus converter once the WebRTC viewer left');
  // A stream with `Audio no` answers Chromium's audio section inactive: a send-only one would give the page a silent track.
  const answers = await index.evaluate(async () => {
    const audioSection = async (stream: string): Promise<string> => {
      const peer = new RTCPeerConnection();
      peer.addTransceiver('video', { direction: 'recvonly' });
      peer.addTransceiver('audio', { direction: 'recvonly' });
      await peer.setLocalDescription(await peer.createOffer());
      const response = await fetch(`/${stream}/whep`, { method: 'POST', headers: { 'Content-Type': 'application/sdp' }, body: peer.localDescription!.sdp });
      const answer = await response.text();
      const location = response.headers.get('Location');
      if (location) await fetch(location, { method: 'DELETE' });
      peer.close();
      return answer.split('m=audio')[1] ?? '';
    };
    return { tone: await audioSection('tone.flv'), silent: await audioSection('silent.flv') };
  });
  t.match(answers.tone, /a=sendonly[\s\S]*a=rtpmap:111 opus\/48000\/2/, 'tone.flv sends Opus in the audio section');
  t.match(answers.silent, /a=inactive/, 'silent.flv (Audio no) answers its audio section inactive');
  t.notMatch(answers.silent, /a=sendonly|a=ssrc:/, 'and sends no sound');
  t.same(problems, [], 'no console errors');

  await t.test('an on-demand camera whose first viewer opens its page: the sound comes after the answer and is offered then', async (t) => {
    // Guards: the first WebRTC viewer of an on-demand camera got video only (its offer came before the camera's sound).
    const cameraState = async (name: string): Promise<string> =>
      ((await (await fetch(`${relay.baseUrl}/stat.json`)).json()) as { cameras: { name: string; state: string }[] }).cameras.find((c) => c.name === name)!.state;
    await index.goto(`${relay.baseUrl}/`);
    const lazyLink = await index.getAttribute('section[data-camera="lazy"] a[href="/player/lazy.flv"]', 'href');
    t.equal(lazyLink, '/player/lazy.flv', 'the index links the on-demand camera\'s player');
    t.equal(await cameraState('lazy'), 'idle', 'nothing running when the page opens');
    const lazy = await context.newPage();
    // Keeps the page's peer connections, to read the sender reports the browser received.
    await lazy.addInitScript(() => {
      const Native = window.RTCPeerConnection;
      const peers: RTCPeerConnection[] = [];
      (window as unknown as { peers: RTCPeerConnection[] }).peers = peers;
      window.RTCPeerConnection = class extends Native {
        constructor(configuration?: RTCConfiguration) {
          super(configuration);
          peers.push(this);
        }
      };
    });
    await lazy.goto(`${relay.baseUrl}${lazyLink}`);
    await lazy.waitForSelector('#player-unmute', { state: 'visible', timeout: 30_000 });
    t.equal((await advances(lazy, 1, 30_000)).engine, 'webrtc', 'played by WebRTC');
    await lazy.click('#player-unmute');
    t.equal(await lazy.evaluate(() => document.querySelector('video')!.muted), false, 'unmuted');
    const lazyPeak = await tonePeak(lazy);
    t.ok(lazyPeak > 0.05, `the tone heard after unmuting (peak ${lazyPeak.toFixed(3)})`);
    const reported = await lazy.evaluate(async () => {
      const peer = (window as unknown as { peers: RTCPeerConnection[] }).peers.at(-1)!;
      const kinds: string[] = [];
      (await peer.getStats()).forEach((row: { type: string; kind?: string; reportsSent?: number }) => {
        if (row.type === 'remote-outbound-rtp' && row.kind && (row.reportsSent ?? 0) > 0) kinds.push(row.kind);
      });
      return kinds.sort();
    });
    t.same(reported, ['audio', 'video'], 'sender reports came for the sound that started after the picture, as for the picture');
    await lazy.close();

    t.equal(await cameraState('hush'), 'idle', 'the silent on-demand camera is not running either');
    const hush = await context.newPage();
    await hush.goto(`${relay.baseUrl}/player/hush.flv`);
    t.equal((await advances(hush, 3, 30_000)).engine, 'webrtc', 'the silent camera plays by WebRTC');
    t.notOk(await hush.isVisible('#player-unmute'), 'no unmute button for a camera that sent no sound');
    t.notOk(await hush.evaluate(() => (window as unknown as { relayPlayer: { hasAudio: boolean } }).relayPlayer.hasAudio), 'the player found no sound');
    await hush.close();
    t.same(problems, [], 'no console errors');
  });
});
