// Guards: a camera with sound played over WebRTC (the player pages try it first) was heard by nobody: WebRTC carried only video.
import t from 'tap';
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
  // Chromium gives Web Audio no sound from an element playing a remote WebRTC stream (it plays such sound itself): the
  // analyser taps the stream the element plays, and the element's muted state is what the viewer hears of it.
  const peak = await page.evaluate(async () => {
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
});
