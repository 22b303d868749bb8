import t from 'tap';
import { GstRtspServer } from '../../adapters/rtsp/gst-server.ts';
import { decodeAudio } from '../../helpers/audio.ts';
import { captureStream } from '../../helpers/picture.ts';
import { waitFor } from '../../helpers/probe.ts';
import { startTestRelayFor } from '../../helpers/relay.ts';

/** A 1 kHz tone through the relay is far above silence (-inf or below -90 dBFS) after a 1 kHz band-pass. */
const TONE_DB = -40;
/** Lip sync: the broadcast tolerance the relay keeps, here on the first audio and video times of a capture. */
const SYNC_MS = 45;

/** The last `count` complete segments of an HLS stream, waiting for them to exist, as one MPEG-TS. */
async function hlsSegments(url: string, count: number): Promise<Buffer> {
  let names: string[] = [];
  let init: string | undefined;
  await waitFor(async () => {
    const playlist = await (await fetch(url)).text();
    // Segments from before the camera's sound began have none (its start is a discontinuity): take those after it.
    const lines = playlist.split('\n');
    names = lines.slice(lines.lastIndexOf('#EXT-X-DISCONTINUITY') + 1).filter((line) => line && !line.startsWith('#'));
    init = /#EXT-X-MAP:URI="([^"]+)"/.exec(playlist.split('\n').filter((line) => line.startsWith('#EXT-X-MAP')).at(-1) ?? '')?.[1];
    return names.length >= count;
  }, 20_000, `${count} segments in ${url}`);
  // LL-HLS: the init segment (the last map listed describes the newest segments) goes first.
  const parts = await Promise.all([...(init ? [init] : []), ...names.slice(-count)].map(async (name) => Buffer.from(await (await fetch(new URL(name, url))).arrayBuffer())));
  return Buffer.concat(parts);
}

function stream(name: string, camera: string, format: 'flv' | 'hls'): string {
  return `<Stream ${name}>\n Feed ${camera}\n Format ${format}\n VideoFrameRate 10\n VideoSize 320x240\n VideoBitRate 300\n</Stream>\n`;
}

t.test('RTSP cameras with AAC and with PCMA: their tone through HTTP-FLV, in step with the picture', async (t) => {
  const aac = await GstRtspServer.start({ codec: 'h264', fps: 10, audio: 'aac' });
  const pcma = await GstRtspServer.start({ codec: 'h264', fps: 10, audio: 'pcma' });
  const relay = await startTestRelayFor(t, `
<Camera aac>\n Source ${aac.url}\n</Camera>\n<Camera pcma>\n Source ${pcma.url}\n</Camera>
${stream('aac.flv', 'aac', 'flv')}${stream('pcma.flv', 'pcma', 'flv')}${stream('aac.m3u8', 'aac', 'hls')}${stream('pcma.m3u8', 'pcma', 'hls')}${stream('pcma-ll.m3u8', 'pcma', 'hls').replace('</Stream>', ' LowLatency yes\n</Stream>')}
<Stream stat.json>\n Format status\n</Stream>\n`, () => aac.stop(), () => pcma.stop());
  const status = async (): Promise<any> => (await fetch(`${relay.baseUrl}/stat.json`)).json();
  // Both cameras' sound is coming out of its part (copied, or converted by an ffmpeg that had to start first).
  await waitFor(async () => (await status()).encoders.filter((part: { kind: string; framesOut: number }) => part.kind === 'audio' && part.framesOut > 20).length === 2,
    20_000, 'both cameras\' sound');
  const [aacFlv, pcmaFlv] = await Promise.all([captureStream(`${relay.baseUrl}/aac.flv`, 3000), captureStream(`${relay.baseUrl}/pcma.flv`, 3000)]);
  for (const [name, bytes] of [['aac', aacFlv], ['pcma', pcmaFlv]] as const) {
    const decoded = await decodeAudio(bytes, `${name}.flv`);
    t.equal(decoded.codec, 'aac', `${name}: AAC in the FLV`);
    t.ok(decoded.toneDb > TONE_DB, `${name}: the 1 kHz tone is there (${decoded.toneDb.toFixed(1)} dBFS)`);
    t.ok(decoded.duration > 2, `${name}: ${decoded.duration} s of sound in 3 s`);
    const offsetMs = (decoded.startTime - decoded.videoStartTime!) * 1000;
    t.ok(Math.abs(offsetMs) <= SYNC_MS, `${name}: audio starts ${offsetMs.toFixed(0)} ms from the video`);
  }
  for (const name of ['pcma', 'pcma-ll']) {
    // Guards: a PCMA camera's HLS opened before its converted sound came, so the sound began at a discontinuity (hls.js fails on it).
    const playlist = await (await fetch(`${relay.baseUrl}/${name}.m3u8`)).text();
    t.notMatch(playlist, /#EXT-X-DISCONTINUITY\n/, `${name}: the sound is there from the first segment (no discontinuity)`);
  }
  for (const name of ['aac', 'pcma', 'pcma-ll']) {
    const bytes = await hlsSegments(`${relay.baseUrl}/${name}.m3u8`, 2);
    const decoded = await decodeAudio(bytes, name.endsWith('-ll') ? `${name}.mp4` : `${name}.ts`);
    t.equal(decoded.codec, 'aac', `${name}: AAC in the HLS segments`);
    t.ok(decoded.toneDb > TONE_DB, `${name}: the tone in HLS (${decoded.toneDb.toFixed(1)} dBFS)`);
    const offsetMs = (decoded.startTime - decoded.videoStartTime!) * 1000;
    t.ok(Math.abs(offsetMs) <= SYNC_MS, `${name}: HLS audio starts ${offsetMs.toFixed(0)} ms from the video`);
  }
  const snapshot = await status();
  const cameras = Object.fromEntries(snapshot.cameras.map((camera: { name: string; audio: unknown }) => [camera.name, camera.audio]));
  t.match(cameras.aac, { codec: 'aac', sampleRate: 48_000, channels: 1, summary: /^sound: aac 48000 Hz mono/ });
  t.match(cameras.pcma, { codec: 'pcma', sampleRate: 8000, channels: 1 });
  const audioParts = snapshot.encoders.filter((encoder: { kind: string }) => encoder.kind === 'audio');
  t.match(audioParts.find((part: { camera: string }) => part.camera === 'aac'), { codec: 'copy', pid: null, streams: ['aac.flv', 'aac.m3u8'] });
  t.match(audioParts.find((part: { camera: string }) => part.camera === 'pcma'), { codec: 'aac', state: 'live', pid: Number, streams: ['pcma-ll.m3u8', 'pcma.flv', 'pcma.m3u8'] });
  t.equal(audioParts.length, 2, 'one sound part per camera, whatever the number of streams');
  const metrics = await (await fetch(`${relay.baseUrl}/metrics`)).text();
  t.match(metrics, /relay_camera_audio_frames_in_total\{camera="aac"\} [1-9]\d*/);
});
