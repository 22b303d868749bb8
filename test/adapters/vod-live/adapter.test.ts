import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { copyFile, readFile, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import t from 'tap';
import { AdapterError } from '../../../adapters/errors.ts';
import { h264PassArgs } from '../../../adapters/vod-live/h264-pass.ts';
import { parseVodLiveSource, VodLiveAdapter } from '../../../adapters/vod-live/adapter.ts';
import type { VideoUnit } from '../../../media/types.ts';
import { makeCameraConfig } from '../../helpers/camera-config.ts';
import { makeTestMedia } from '../../helpers/media.ts';
import { childFfmpegs } from '../../helpers/probe.ts';
import { payloadBytes, RecordingSink } from '../../helpers/sink.ts';

const media = await makeTestMedia(2);
t.teardown(() => media.cleanup());

function adapterFor(source: string, loop: boolean): VodLiveAdapter {
  return new VodLiveAdapter(makeCameraConfig(source, { loop }), 'ffmpeg', media.dir);
}

/** Runs an adapter for `ms` (or until it fails), then stops it; returns the frames and how the run ended. */
async function runFor(adapter: VodLiveAdapter, ms: number): Promise<{ sink: RecordingSink; error: unknown }> {
  const sink = new RecordingSink();
  const timer = setTimeout(() => sink.stop(), ms);
  let error: unknown;
  await adapter.run(sink).catch((caught: unknown) => (error = caught));
  clearTimeout(timer);
  return { sink, error };
}

function increasing(frames: readonly VideoUnit[]): boolean {
  return frames.every((frame, index) => index === 0 || frame.dts > frames[index - 1]!.dts);
}

t.test('the ffmpeg arguments read the file once in real time and remux its video to FLV', async (t) => {
  t.same(h264PassArgs('/m/a.mp4', true), [
    '-hide_banner', '-nostdin', '-loglevel', 'error', '-re', '-i', 'file:/m/a.mp4',
    '-map', '0:v:0', '-an', '-c:v', 'copy', '-f', 'flv', '-flush_packets', '1', 'pipe:1',
  ]);
  t.match(h264PassArgs('/m/a.mkv', false).join(' '), /-c:v libx264 .*-bf 0/);
  t.match(h264PassArgs('/m/a.mp4', true, false, 'copy').join(' '), /-map 0:v:0 -map 0:a:0\? -c:a copy -c:v copy/, 'AAC sound copied, when there is any');
  t.match(h264PassArgs('/m/a.mkv', true, false, 'aac').join(' '), /-map 0:a:0\? -c:a aac -b:a 128k/, 'other sound encoded once to AAC');
});

t.test('an MP4\'s AAC sound comes with its picture, on the same timeline, across loops', async (t) => {
  const sink = new RecordingSink();
  const run = adapterFor('vod-live://movie.mp4', true).run(sink);
  await sink.waitForFrames(25, 30_000);
  sink.stop();
  await run;
  const { frames, audio } = sink;
  t.ok(audio.length > 50, `${audio.length} audio units`);
  t.match(audio[0]!.track, { kind: 'audio', codec: 'aac', sampleRate: 44100, channels: 1 });
  t.ok(Math.abs(audio[0]!.pts - frames[0]!.pts) <= 45, `sound starts ${(audio[0]!.pts - frames[0]!.pts).toFixed(1)} ms from the picture`);
  t.ok(audio.every((unit, index) => index === 0 || unit.dts > audio[index - 1]!.dts), 'audio times increase across the loop');
  const secondPass = frames[20]!.pts;
  const nextSound = audio.find((unit) => unit.pts >= secondPass - 45);
  t.ok(nextSound && Math.abs(nextSound.pts - secondPass) <= 45, `after the loop the sound restarts ${nextSound ? (nextSound.pts - secondPass).toFixed(1) : '?'} ms from the picture`);
});

t.test('a file whose sound is not AAC (Opus in Matroska) plays it encoded once to AAC', async (t) => {
  await promisify(execFile)('ffmpeg', ['-loglevel', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc=size=320x240:rate=10:duration=1',
    '-f', 'lavfi', '-i', 'sine=frequency=1000:sample_rate=48000:duration=1', '-c:v', 'libx264', '-preset', 'ultrafast', '-bf', '0',
    '-pix_fmt', 'yuv420p', '-c:a', 'libopus', join(media.dir, 'opus.mkv')]);
  const { sink, error } = await runFor(adapterFor('vod-live://opus.mkv', false), 1500);
  t.equal(error, undefined);
  t.ok(sink.frames.length >= 9, `${sink.frames.length} frames`);
  t.ok(sink.audio.length >= 30, `${sink.audio.length} audio units`);
  t.match(sink.audio[0]?.track, { codec: 'aac', sampleRate: 48000 });
});

t.test('a file whose sound outlasts its picture: the picture plays whole, the next pass starts after the sound, both in step', async (t) => {
  // Guards the pass's end: timed by the picture alone, the next pass's sound went back in time over the last one's.
  await promisify(execFile)('ffmpeg', ['-loglevel', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc=size=320x240:rate=10:duration=1',
    '-f', 'lavfi', '-i', 'sine=frequency=1000:sample_rate=48000:duration=2', '-c:v', 'libx264', '-preset', 'ultrafast', '-bf', '0', '-g', '10',
    '-pix_fmt', 'yuv420p', '-c:a', 'aac', join(media.dir, 'long-sound.mp4')]);
  const sink = new RecordingSink();
  const run = adapterFor('vod-live://long-sound.mp4', true).run(sink);
  await sink.waitForFrames(12, 30_000);
  sink.stop();
  await run;
  const { frames, audio } = sink;
  t.same(frames.slice(0, 10).map((frame) => Math.round(frame.pts - frames[0]!.pts)), [0, 100, 200, 300, 400, 500, 600, 700, 800, 900], 'the first pass\'s ten frames, 100 ms apart');
  const firstPassSoundEnd = Math.max(...audio.filter((unit) => unit.pts < frames[10]!.pts).map((unit) => unit.pts));
  t.ok(firstPassSoundEnd >= 1900, `the first pass's sound plays for 2 s (last unit at ${firstPassSoundEnd.toFixed(0)} ms)`);
  t.ok(frames[10]!.pts > firstPassSoundEnd && frames[10]!.pts - frames[0]!.pts <= 2050,
    `the second pass starts after the sound, at ${(frames[10]!.pts - frames[0]!.pts).toFixed(0)} ms`);
  t.ok(audio.every((unit, index) => index === 0 || unit.dts > audio[index - 1]!.dts), 'audio times never go back');
  const nextSound = audio.find((unit) => unit.pts > firstPassSoundEnd);
  t.ok(nextSound && Math.abs(nextSound.pts - frames[10]!.pts) <= 45, 'the second pass\'s sound starts with its picture');
});

t.test('vod-live URIs', async (t) => {
  t.same(parseVodLiveSource('vod-live://dir/movie.mp4?fps=20'), { file: 'dir/movie.mp4', fps: 20 });
  t.same(parseVodLiveSource('vod-live://movie.mp4'), { file: 'movie.mp4', fps: 25 });
  t.throws(() => parseVodLiveSource('vod-live://'), AdapterError);
  t.throws(() => parseVodLiveSource('vod-live://a.mjpeg?fps=0'), { message: /fps/ });
  t.throws(() => parseVodLiveSource('vod-live://a.mjpeg?fps=1e9'), { message: /fps/ });
});

t.test('an MP4 loops in real time with timestamps that keep increasing', async (t) => {
  const sink = new RecordingSink();
  const run = adapterFor('vod-live://movie.mp4', true).run(sink);
  // 2 s at 10 fps per pass: 45 frames are two whole passes and part of a third.
  await sink.waitForFrames(45, 30_000);
  const playedMs = Date.now() - sink.connectedAt!;
  sink.stop();
  await run;
  const frames = sink.frames;
  t.ok(playedMs >= 3800, `paced in real time: 45 frames took ${playedMs} ms`);
  t.ok(increasing(frames), 'timestamps increase across loops');
  t.ok(frames[44]!.pts >= 4000, 'the third pass is timed after the first two');
  t.equal(frames[0]!.track.codec, 'h264');
  t.ok(frames[0]!.keyframe, 'starts on a keyframe');
  t.same([...payloadBytes(frames[0]!).subarray(0, 5)], [0, 0, 0, 1, 0x67], 'Annex B with the SPS in front of the keyframe');
});

t.test('an MP4 with B-frames (frames stored out of presentation order) still yields increasing timestamps', async (t) => {
  await promisify(execFile)('ffmpeg', ['-loglevel', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc=size=320x240:rate=10:duration=2',
    '-c:v', 'libx264', '-preset', 'ultrafast', '-bf', '3', '-g', '20', '-pix_fmt', 'yuv420p', join(media.dir, 'bframes.mp4')]);
  const { sink, error } = await runFor(adapterFor('vod-live://bframes.mp4', true), 3000);
  t.equal(error, undefined);
  t.ok(sink.frames.length >= 20, `${sink.frames.length} frames`);
  t.ok(increasing(sink.frames), 'decode times: increasing within and across loops');
});

t.test('the five-digit-length MJPEG file and a concatenated MJPEG file play as JPEG frames at fps, looping', async (t) => {
  for (const name of ['movie.Mjpeg', 'movie.mjpeg']) {
    const sink = new RecordingSink();
    const run = adapterFor(`vod-live://${name}?fps=20`, true).run(sink);
    // 20 frames per pass at 20 fps: 45 frames are more than two passes, 2.2 s after the first frame.
    await sink.waitForFrames(45, 20_000);
    const playedMs = Date.now() - sink.connectedAt!;
    sink.stop();
    await run;
    const frames = sink.frames;
    t.ok(playedMs >= 2000, `${name}: paced at 20 fps: 45 frames took ${playedMs} ms`);
    t.ok(frames.every((frame) => frame.track.codec === 'jpeg' && frame.data[0] === 0xff && frame.data[1] === 0xd8));
    t.ok(increasing(frames), `${name}: timestamps increase across loops`);
    t.equal(frames[44]!.pts - frames[0]!.pts, 44 * 50, `${name}: 50 ms apart across loops`);
  }
});

t.test('Loop no: the file plays once, then the source waits without frames', async (t) => {
  const { sink, error } = await runFor(adapterFor('vod-live://movie.Mjpeg?fps=40', false), 2000);
  t.equal(error, undefined);
  t.equal(sink.frames.length, 20, 'each frame once');
  t.equal(sink.audio.length, 0, 'JPEG files are silent');
  t.ok(sink.waitingSince, 'then waiting');
});

t.test('files that cannot play fail with clear errors that show no path', async (t) => {
  const seedFile = await readFile(join(media.dir, 'movie.Mjpeg'));
  const firstFrame = seedFile.subarray(0, 5 + Number(seedFile.toString('latin1', 0, 5)));
  await writeFile(join(media.dir, 'bad-length.Mjpeg'), Buffer.concat([firstFrame, Buffer.from('12x45'), Buffer.alloc(100)]));
  const cases: Array<[string, RegExp]> = [
    ['vod-live://missing.mp4', /^File not found$/],
    ['vod-live://notvideo.mp4', /not a video/],
    ['vod-live://truncated.mp4', /not a video/],
    ['vod-live://sound.mp4', /no video track/],
    ['vod-live://%2e%2e/etc/passwd', /"\.\." parts/],
    ['vod-live://bad-length.Mjpeg', /bad frame length at byte/],
  ];
  for (const [source, message] of cases) {
    const { error } = await runFor(adapterFor(source, true), 10_000);
    t.ok(error instanceof AdapterError, `${source}: an AdapterError`);
    t.match((error as Error).message, message, `${source}: ${(error as Error).message}`);
    t.notMatch((error as Error).message, media.dir, 'no path of the machine');
  }
});

t.test('a run stopped while the file is still being checked ends at once and leaves no reader', async (t) => {
  // Regression: an abort during the probe was never seen, and ffmpeg looped over the file for ever.
  const sink = new RecordingSink();
  const run = adapterFor('vod-live://movie.mp4', true).run(sink);
  sink.stop();
  const started = Date.now();
  await run;
  t.ok(Date.now() - started < 3000, 'ended');
  await new Promise((resolve) => setTimeout(resolve, 500));
  t.same(childFfmpegs().filter((cmdline) => cmdline.includes('movie.mp4')), [], 'no ffmpeg reads the file');
  t.equal(sink.frames.length, 0);
});

t.test('a file deleted while playing ends the run with a clear error', async (t) => {
  await copyFile(join(media.dir, 'movie.mp4'), join(media.dir, 'doomed.mp4'));
  const sink = new RecordingSink();
  const run = adapterFor('vod-live://doomed.mp4', true).run(sink);
  await sink.waitForFrames(5);
  await unlink(join(media.dir, 'doomed.mp4'));
  const started = Date.now();
  await t.rejects(run, { code: 'CLOSED', message: 'File not found: the file was deleted while playing' });
  t.ok(Date.now() - started < 3000, 'within the 1 s check interval and a pass');
  sink.stop();
});
