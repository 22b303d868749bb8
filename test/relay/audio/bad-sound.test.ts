import { spawn } from 'node:child_process';
import { appendFile } from 'node:fs/promises';
import t, { type Test } from 'tap';
import type { AdapterSink, CameraAdapter } from '../../../adapters/types.ts';
import { AdapterRegistry } from '../../../adapters/registry.ts';
import { rtspAdapter } from '../../../adapters/rtsp/client.ts';
import { testsrcAdapter } from '../../../adapters/testsrc/testsrc.ts';
import { aacTrack, buildAudioSpecificConfig } from '../../../media/aac/config.ts';
import { jpegUnit, type AudioTrack } from '../../../media/types.ts';
import { frameInterleaved } from '../../../media/rtsp/interleaved.ts';
import { FakeRtspServer, type FakeConnection } from '../../adapters/rtsp/fake-server.ts';
import { rtpBytes } from '../../adapters/rtsp/rtp-builder.ts';
import { makeJpegFrames } from '../../helpers/controllable-camera.ts';
import { waitFor } from '../../helpers/probe.ts';
import { startTestRelay } from '../../helpers/relay.ts';

const JPEGS = makeJpegFrames(10, '160x120');

/** A camera with a picture at 10 fps and sound the test steers: its track, its frames per second, either part off. */
class SoundingCamera {
  picture = true;
  sound = true;
  audioSent = 0;

  constructor(
    readonly track: AudioTrack,
    readonly audioPerSecond: number,
  ) {}

  adapter(): CameraAdapter {
    return { kind: 'sounding', run: (sink) => this.run(sink) };
  }

  private async run(sink: AdapterSink): Promise<void> {
    sink.onConnected();
    const started = performance.now();
    let pictures = 0;
    let sounds = 0;
    while (!sink.signal.aborted) {
      const now = performance.now() - started;
      // Whatever the timer's pace, the camera sends what its clock says is due (at most a second's worth at once).
      for (; pictures < Math.floor(now / 100); pictures++) {
        if (this.picture) sink.onFrame(jpegUnit(JPEGS[pictures % JPEGS.length]!, pictures * 100));
      }
      const due = Math.floor((now * this.audioPerSecond) / 1000);
      if (due - sounds > this.audioPerSecond) sounds = due - this.audioPerSecond;
      for (; sounds < due; sounds++) {
        if (!this.sound) continue;
        const pts = (sounds * 1000) / this.audioPerSecond;
        sink.onAudio?.({ track: this.track, data: Buffer.alloc(40, sounds), pts, dts: pts, keyframe: true });
        this.audioSent++;
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }
}

const monoAac = aacTrack(buildAudioSpecificConfig({ objectType: 2, sampleRate: 48_000, channels: 1 }));
const cameras = {
  quiet: new SoundingCamera(monoAac, 1000 / (1024 / 48)),
  blind: new SoundingCamera(monoAac, 1000 / (1024 / 48)),
  surround: new SoundingCamera(aacTrack(buildAudioSpecificConfig({ objectType: 2, sampleRate: 96_000, channels: 8 })), 1000 / (1024 / 96)),
  flood: new SoundingCamera(monoAac, 1000),
};
/** One AAC frame (20 bytes of filler) as an RFC 3640 AAC-hbr payload: a 16-bit AU-header, then the AU. */
const AAC_HBR_PAYLOAD = Buffer.concat([Buffer.from([0x00, 0x10, (20 << 3) >> 8, (20 << 3) & 0xff]), Buffer.alloc(20, 0x21)]);

/** Sends an AAC frame every 1024 ticks of a 48 kHz RTP clock on interleaved channel 2, as a 48 kHz camera does. */
function sendAac48k(connection: FakeConnection): void {
  let sequence = 0;
  const timer = setInterval(() => connection.write(frameInterleaved(2, rtpBytes({ payloadType: 97, sequence, timestamp: 1024 * sequence++, marker: true }, AAC_HBR_PAYLOAD))), 1000 * 1024 / 48_000);
  connection.socket.on('close', () => clearInterval(timer));
}

/** An RTSP camera with a picture at 10 fps whose SDP describes `audio` (m= and a= lines) and which sends `sound` (or none). */
async function rtspCamera(audio: string, sound?: (connection: FakeConnection) => void): Promise<FakeRtspServer> {
  const server = new FakeRtspServer((request, connection) => {
    if (request.method === 'PLAY') sound?.(connection);
    if (request.method === 'DESCRIBE') {
      return { status: 200, body: 'v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\ns=fake\r\nt=0 0\r\na=control:*\r\n'
        + 'm=video 0 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\na=fmtp:96 packetization-mode=1\r\na=control:trackID=1\r\n' + audio };
    }
    if (request.method === 'SETUP' && request.uri.endsWith('trackID=2')) {
      return { status: 200, headers: [['Transport', 'RTP/AVP/TCP;unicast;interleaved=2-3'], ['Session', '12345678;timeout=60']] };
    }
    return undefined;
  });
  server.rate = 10;
  await server.listen();
  t.teardown(() => server.close());
  return server;
}
const rtspCameras = {
  mute: await rtspCamera('m=audio 0 RTP/AVP 8\r\na=rtpmap:8 PCMA/8000\r\na=control:trackID=2\r\n'),
  // Its AudioSpecificConfig (0x1588) says 8 kHz mono; its rtpmap and its frames' timing say 48 kHz stereo.
  misconfigured: await rtspCamera('m=audio 0 RTP/AVP 97\r\na=rtpmap:97 MPEG4-GENERIC/48000/2\r\na=fmtp:97 mode=AAC-hbr;sizelength=13;indexlength=3;indexdeltalength=3;config=1588\r\na=control:trackID=2\r\n', sendAac48k),
  garbled: await rtspCamera('m=audio 0 RTP/AVP 97\r\na=rtpmap:97 MPEG4-GENERIC/48000/2\r\na=fmtp:97 mode=AAC-hbr;sizelength=13;indexlength=3;indexdeltalength=3;config=zz\r\na=control:trackID=2\r\n'),
};

const registry = new AdapterRegistry([testsrcAdapter, rtspAdapter, {
  schemes: ['sounding'],
  create: (camera) => cameras[new URL(camera.source).host as keyof typeof cameras].adapter(),
}]);
/** An HLS stream of the quiet camera; the first, there from the start, keeps the camera's sound part running. */
const hlsStream = (name: string): string => `<Stream ${name}>\n  Feed quiet\n  Format hls\n  HLSSegmentTime 1\n  VideoSize 160x120\n  VideoFrameRate 10\n</Stream>\n`;
const relay = await startTestRelay(hlsStream('quiet-first.m3u8') + Object.keys(cameras).map((name) => `
<Camera ${name}>
  Source sounding://${name}
</Camera>
<Stream ${name}.mjpg>
  Feed ${name}
</Stream>
`).join('') + Object.entries(rtspCameras).map(([name, server]) => `<Camera ${name}>\n  Source ${server.url}\n</Camera>\n`).join('') + '<Stream stat.html>\n  Format status\n</Stream>\n', { adapters: registry });
t.teardown(() => relay.stop());

interface CameraStat { name: string; framesIn: number; inputFps: number | null; audio: { summary: string; framesIn: number; sampleRate: number; channels: number } | null }
const camera = async (name: string): Promise<CameraStat> => {
  const stat = (await (await fetch(`${relay.baseUrl}/stat.json`)).json()) as { cameras: CameraStat[] };
  return stat.cameras.find((entry) => entry.name === name)!;
};
/** Asserts the camera's picture keeps coming: more frames a second later than in `seen`. */
async function pictureGoesOn(t: Test, seen: CameraStat): Promise<void> {
  await waitFor(async () => (await camera(seen.name)).framesIn > seen.framesIn + 3, 5_000, `${seen.name}'s picture going on`);
  t.pass(`${seen.name}: the picture goes on`);
}
/** The first segment an HLS playlist lists, once there is one. */
async function firstHlsSegment(url: string): Promise<Buffer> {
  let name: string | undefined;
  await waitFor(async () => (name = (await (await fetch(url)).text()).split('\n').find((line) => line && !line.startsWith('#'))) !== undefined, 15_000, `a segment in ${url}`);
  return Buffer.from(await (await fetch(new URL(name!, url))).arrayBuffer());
}

/** The kinds of the streams ffprobe finds in an MPEG-TS segment (a declared track without data is listed too). */
async function streamTypes(segment: Buffer): Promise<string[]> {
  const child = spawn('ffprobe', ['-v', 'error', '-show_entries', 'stream=codec_type', '-of', 'csv=p=0', '-f', 'mpegts', '-'], { stdio: ['pipe', 'pipe', 'ignore'] });
  child.stdin.end(segment);
  let out = '';
  child.stdout.on('data', (chunk: Buffer) => (out += chunk));
  await new Promise((resolve) => child.on('close', resolve));
  return [...new Set(out.split('\n').map((line) => line.trim()).filter(Boolean))]; // listed under the program and alone
}

const statusPage = async (): Promise<string> => (await fetch(`${relay.baseUrl}/stat.html`)).text();

await waitFor(async () => Object.keys(cameras).every((name) => cameras[name as keyof typeof cameras].audioSent > 0), 10_000, 'every camera sounding');

t.test('an RTSP camera announcing sound it never sends: "announced, none received" on the status page, the picture unharmed', async (t) => {
  // Guards a camera whose SDP promises sound that never comes looking like a camera without a microphone.
  await waitFor(async () => ((await camera('mute')).framesIn) >= 20, 10_000, 'the RTSP camera\'s picture');
  const shown = await camera('mute');
  t.match(shown.audio, { codec: 'pcma', sampleRate: 8000, channels: 1, framesIn: 0, summary: 'sound: pcma 8000 Hz mono: announced, none received' });
  t.ok((await statusPage()).includes('sound: pcma 8000 Hz mono: announced, none received'), 'the line is on /stat.html');
  await pictureGoesOn(t, shown);
});

t.test('an RTSP camera whose AAC config is garbage: "sound left out" with the reason on the status page, the picture unharmed', async (t) => {
  // Guards a camera whose SDP describes its AAC badly looking like a camera without a microphone.
  await waitFor(async () => ((await camera('garbled')).framesIn) >= 20, 10_000, 'the RTSP camera\'s picture');
  const shown = await camera('garbled');
  t.match(shown.audio, { codec: 'none', framesIn: 0, summary: /^sound left out: .*not hex/ });
  t.ok((await statusPage()).includes(shown.audio!.summary), 'the line is on /stat.html');
  await pictureGoesOn(t, shown);
});

t.test('an RTSP camera whose AAC config contradicts its RTP clock and frames: "sound left out" saying so, the picture unharmed', async (t) => {
  // Guards a wrong AudioSpecificConfig (8 kHz mono for 48 kHz stereo frames) being passed on to every decoder as true.
  await waitFor(async () => /^sound left out/.test((await camera('misconfigured')).audio?.summary ?? ''), 10_000, 'the sound judged');
  const shown = await camera('misconfigured');
  t.match(shown.audio, { codec: 'none', framesIn: 0, summary: /^sound left out: the AAC config says 8000 Hz mono, the RTP clock says 48000 Hz stereo and the frames come at 4\d{4} Hz/ });
  t.ok((await statusPage()).includes(shown.audio!.summary), 'the line is on /stat.html');
  await pictureGoesOn(t, shown);
});

t.test('a camera whose sound stops while its picture goes on: "stopped" on the status page, the picture unharmed', async (t) => {
  const before = await camera('quiet');
  cameras.quiet.sound = false;
  await waitFor(async () => /stopped \d+ s ago/.test((await camera('quiet')).audio?.summary ?? ''), 10_000, 'the sound shown as stopped');
  const after = await camera('quiet');
  t.match(after.audio!.summary, /^sound: aac 48000 Hz mono: stopped \d+ s ago/);
  t.match(await statusPage(), /sound: aac 48000 Hz mono: stopped \d+ s ago/, 'the line is on /stat.html');
  t.ok(after.framesIn - before.framesIn >= 30, `the picture goes on (${after.framesIn - before.framesIn} frames while the sound stopped)`);
  // Guards an HLS stream started after the sound died announcing the sound's last track, which never gets data.
  await appendFile(relay.configFile, hlsStream('quiet.m3u8'));
  await relay.reload();
  const segment = await firstHlsSegment(`${relay.baseUrl}/quiet.m3u8`);
  t.same(await streamTypes(segment), ['video'], 'an HLS stream started after the sound stopped has the picture only');
  cameras.quiet.sound = true;
  await waitFor(async () => !/stopped/.test((await camera('quiet')).audio?.summary ?? 'stopped'), 10_000, 'the sound back');
});

t.test('a camera whose picture stops while its sound goes on: "picture stopped" on the status page', async (t) => {
  // Guards a camera whose picture alone stopped looking healthy: its sound keeps the no-frames watchdog quiet.
  cameras.blind.picture = false;
  await waitFor(async () => /picture stopped \d+ s ago/.test((await camera('blind')).audio?.summary ?? ''), 10_000, 'the picture shown as stopped');
  const shown = await camera('blind');
  t.match(shown.audio!.summary, /^sound: aac 48000 Hz mono: picture stopped \d+ s ago, sound goes on$/);
  t.match(await statusPage(), /sound: aac 48000 Hz mono: picture stopped \d+ s ago, sound goes on/, 'the line is on /stat.html');
  const heard = shown.audio!.framesIn;
  await new Promise((resolve) => setTimeout(resolve, 1000));
  t.ok((await camera('blind')).audio!.framesIn > heard, 'the sound is still taken');
  cameras.blind.picture = true;
});

t.test('a 96 kHz 8-channel track is shown as it is, beside an unharmed picture', async (t) => {
  const shown = await camera('surround');
  t.match(shown.audio, { sampleRate: 96_000, channels: 8, summary: 'sound: aac 96000 Hz 8 channels' });
  t.ok((await statusPage()).includes('sound: aac 96000 Hz 8 channels'), 'the line is on /stat.html');
  t.ok(shown.inputFps !== null && shown.inputFps >= 7, `the picture at its rate (${shown.inputFps} fps)`);
});

t.test('sound at 1,000 frames/s: taken and counted, the picture unharmed, memory bounded', async (t) => {
  const start = await camera('flood');
  const heapBefore = process.memoryUsage().heapUsed;
  await new Promise((resolve) => setTimeout(resolve, 3000));
  const end = await camera('flood');
  const heard = end.audio!.framesIn - start.audio!.framesIn;
  t.ok(heard >= 2000, `${heard} sound frames taken in 3 s`);
  t.ok(end.framesIn - start.framesIn >= 20, `the picture goes on (${end.framesIn - start.framesIn} frames in 3 s)`);
  const grown = process.memoryUsage().heapUsed - heapBefore;
  t.ok(grown < 32 * 1024 * 1024, `heap grew ${(grown / 1048576).toFixed(1)} MB while 3,000 sound frames went through`);
  t.match(end.audio!.summary, /^sound: aac 48000 Hz mono/);
});
