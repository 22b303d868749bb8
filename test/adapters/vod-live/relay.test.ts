import { copyFile, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import t from 'tap';
import { Passthrough } from '../../../relay/encoders/passthrough.ts';
import { makeTestMedia } from '../../helpers/media.ts';
import { ffprobe, fetchBytes, openViewer, waitFor } from '../../helpers/probe.ts';
import { startTestRelayFor } from '../../helpers/relay.ts';
import { decodeAudio } from '../../helpers/audio.ts';
import { fileOnsets, summarize } from '../../helpers/av-onsets.ts';
import { makeFlashBeepFile } from '../../helpers/flash-beep.ts';
import { captureStream } from '../../helpers/picture.ts';

/** The broadcast lip-sync tolerance the relay keeps on every output. */
const SYNC_MS = 45;

const media = await makeTestMedia(2);
// 2 s of a picture that flashes white while a 1 kHz beep sounds, once a second: a loop every 2 s.
await makeFlashBeepFile(media.dir, 2);
await copyFile(join(media.dir, 'movie.mjpeg'), join(media.dir, 'doomed.mjpeg'));
const relay = await startTestRelayFor(t, `MediaPath ${media.dir}
VodStreamTimeout 2
<Camera loop>
  Source vod-live://movie.mjpeg?fps=10
  Loop yes
</Camera>
<Camera gone>
  Source vod-live://missing.mp4
  OnDemand no
</Camera>
<Camera doomed>
  Source vod-live://doomed.mjpeg?fps=10
  Loop yes
</Camera>
<Stream doomed.mjpg>
  Feed doomed
</Stream>
<Camera film>
  Source vod-live://movie.mp4
  Loop yes
</Camera>
<Stream film.flv>
  Feed film
  VideoCodec copy
</Stream>
<Camera beep>
  Source vod-live://flash-beep.mp4
  Loop yes
</Camera>
<Stream beep.flv>
  Feed beep
  VideoCodec copy
</Stream>
<Stream loop.flv>
  Feed loop
  VideoSize 320x240
  VideoBitRate 300
</Stream>
<Stream loop.m3u8>
  Feed loop
  HLSSegmentTime 1
</Stream>
<Stream loop.mjpg>
  Feed loop
</Stream>
<Stream loop.jpg>
  Feed loop
</Stream>
<Stream stat.html>
  Format status
</Stream>
`, () => media.cleanup());

// First and alone: it measures sound against picture. The others, each on its own camera, then run side by side.
await t.test('a file\'s sound plays through FLV with its picture, in step across loops', async (t) => {
  // The file starts playing for a first viewer: the capture begins once it plays, so it holds four flashes.
  const starter = await openViewer(`${relay.baseUrl}/beep.flv`);
  t.teardown(() => starter.close());
  await waitFor(() => relay.relay.feeds.get('beep')!.status.state === 'live' && starter.bytes > 10_000, 15_000, 'the file playing');
  const flv = await captureStream(`${relay.baseUrl}/beep.flv`, 5000);
  const heard = await decodeAudio(flv, 'beep.flv');
  t.match(heard, { codec: 'aac', sampleRate: 48000, channels: 1 });
  t.ok(heard.toneDb > -30, `the beep is heard at ${heard.toneDb.toFixed(1)} dBFS`);
  t.ok(Math.abs(heard.startTime - heard.videoStartTime!) * 1000 <= SYNC_MS, `sound starts ${((heard.startTime - heard.videoStartTime!) * 1000).toFixed(0)} ms from the picture`);
  const file = join(media.dir, 'beep-capture.flv');
  await writeFile(file, flv);
  // Every other flash is a pass's first frame: the pairs measure the loop's joins too.
  const offsets = summarize(await fileOnsets(file));
  t.ok(offsets.pairs >= 3, `${offsets.pairs} flashes paired with beeps (${offsets.flashes} flashes, ${offsets.beeps} beeps)`);
  t.ok(offsets.maxAbsMs <= SYNC_MS, `beep and flash at most ${offsets.maxAbsMs.toFixed(0)} ms apart (median ${offsets.medianMs.toFixed(0)} ms)`);
});

t.jobs = 4;

t.test('every stream format plays from a configured vod-live camera', async (t) => {
  // The three readers at once, as viewers of one camera would be.
  const [flv, hls, mjpeg] = await Promise.all([
    ffprobe(`${relay.baseUrl}/loop.flv`, 2), ffprobe(`${relay.baseUrl}/loop.m3u8`, 2), ffprobe(`${relay.baseUrl}/loop.mjpg`, 1),
  ]);
  t.match(flv, { codec_name: 'h264', width: 320, height: 240 });
  t.match(hls, { codec_name: 'h264', width: 320, height: 240 });
  t.match(mjpeg, { codec_name: 'mjpeg', width: 320, height: 240 });
  await waitFor(async () => (await fetchBytes(`${relay.baseUrl}/loop.jpg`)).status === 200, 10_000, 'a snapshot');
  const jpeg = await fetchBytes(`${relay.baseUrl}/loop.jpg`);
  t.same([...jpeg.body.subarray(0, 2)], [0xff, 0xd8]);
  t.equal(relay.relay.feeds.get('loop')!.status.restarts, 0, 'one run of the file for all four');
});

t.test('an MP4\'s H.264 is passed on unchanged with VideoCodec copy', async (t) => {
  t.match(await ffprobe(`${relay.baseUrl}/film.flv`, 2), { codec_name: 'h264', width: 320, height: 240 });
  const encoders = [...relay.relay.encoders.values()].filter((entry) => entry.encoder.id.startsWith('film#'));
  t.ok(encoders.length === 1 && encoders[0]!.encoder instanceof Passthrough, 'no transcoding: the passthrough');
});

t.test('a missing file is "File not found" on /stat.html and /stat.json', async (t) => {
  await waitFor(() => relay.relay.feeds.get('gone')!.status.lastError !== undefined, 10_000, 'the failure');
  const stat = await (await fetch(`${relay.baseUrl}/stat.json`)).json();
  const camera = stat.cameras.find((candidate: { name: string }) => candidate.name === 'gone');
  t.match(camera, { kind: 'vod-live', state: 'retrying', lastError: { message: 'UPSTREAM_STATUS: File not found', phase: 'start' } });
  t.match(await (await fetch(`${relay.baseUrl}/stat.html`)).text(), /File not found/);
  t.notOk(relay.logs.some((line) => line.includes(media.dir)), 'no media path in the logs');
});

t.test('a file deleted while it plays ends the run with a clear error on /stat.json, and its viewer keeps its connection', async (t) => {
  const viewer = await openViewer(`${relay.baseUrl}/doomed.mjpg`);
  await waitFor(() => viewer.bytes > 10_000, 10_000, 'frames');
  await unlink(join(media.dir, 'doomed.mjpeg'));
  await waitFor(() => relay.relay.feeds.get('doomed')!.status.lastError !== undefined, 5000, 'the failure');
  const stat = await (await fetch(`${relay.baseUrl}/stat.json`)).json();
  const camera = stat.cameras.find((candidate: { name: string }) => candidate.name === 'doomed');
  t.match(camera.lastError, { message: 'CLOSED: File not found: the file was deleted while playing', phase: 'run' });
  t.notOk(viewer.response.destroyed, 'the viewer waits for the camera to come back, as with any camera');
  viewer.close();
});
