import t from 'tap';
import { GstRtspServer } from '../../adapters/rtsp/gst-server.ts';
import { decodeAudio } from '../../helpers/audio.ts';
import { captureStream } from '../../helpers/picture.ts';
import { waitFor } from '../../helpers/probe.ts';
import { startTestRelayFor } from '../../helpers/relay.ts';

// Guards: an RTSP camera sending Opus played silent on FLV and HLS (the AAC converter read G.711 only).
/** A 1 kHz tone through the relay is far above silence (-inf or below -90 dBFS) after a 1 kHz band-pass. */
const TONE_DB = -40;

function stream(name: string, format: 'flv' | 'hls'): string {
  return `<Stream ${name}>\n Feed mic\n Format ${format}\n VideoFrameRate 10\n VideoSize 320x240\n VideoBitRate 300\n</Stream>\n`;
}

t.test('an RTSP camera with Opus: its tone as AAC on FLV and HLS, through one converter', async (t) => {
  const camera = await GstRtspServer.start({ codec: 'h264', fps: 10, audio: 'opus' });
  const relay = await startTestRelayFor(t, `<Camera mic>\n Source ${camera.url}\n</Camera>\n${stream('mic.flv', 'flv')}${stream('mic.m3u8', 'hls')}
<Stream stat.json>\n Format status\n</Stream>\n`, () => camera.stop());
  const status = async (): Promise<any> => (await fetch(`${relay.baseUrl}/stat.json`)).json();
  const flv = await captureStream(`${relay.baseUrl}/mic.flv`, 4000);
  const decoded = await decodeAudio(flv, 'mic.flv');
  t.equal(decoded.codec, 'aac', 'AAC in the FLV');
  t.ok(decoded.toneDb > TONE_DB, `the camera's tone is there (${decoded.toneDb.toFixed(1)} dBFS)`);
  t.ok(decoded.duration > 2, `${decoded.duration} s of sound in 4 s`);
  await waitFor(async () => (await fetch(`${relay.baseUrl}/mic.m3u8`)).status === 200, 20_000, 'the HLS playlist');
  let segment = Buffer.alloc(0);
  await waitFor(async () => {
    const playlist = await (await fetch(`${relay.baseUrl}/mic.m3u8`)).text();
    const names = playlist.split('\n').filter((line) => line && !line.startsWith('#'));
    if (names.length === 0) return false;
    segment = Buffer.from(await (await fetch(new URL(names.at(-1)!, `${relay.baseUrl}/mic.m3u8`))).arrayBuffer());
    return true;
  }, 20_000, 'an HLS segment');
  const hls = await decodeAudio(segment, 'mic.ts');
  t.equal(hls.codec, 'aac', 'AAC in the HLS segment');
  t.ok(hls.toneDb > TONE_DB, `the tone in HLS (${hls.toneDb.toFixed(1)} dBFS)`);
  const snapshot = await status();
  t.match(snapshot.cameras.find((entry: { name: string }) => entry.name === 'mic').audio, { codec: 'opus', sampleRate: 48_000 });
  const audioParts = snapshot.encoders.filter((encoder: { kind: string }) => encoder.kind === 'audio');
  t.equal(audioParts.length, 1, 'one sound converter for the camera, for both streams');
  t.match(audioParts[0], { camera: 'mic', codec: 'aac', state: 'live', pid: Number, streams: ['mic.flv', 'mic.m3u8'] });
});
