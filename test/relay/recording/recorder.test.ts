import { closeSync, openSync, writeSync } from 'node:fs';
import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { EncodedHub } from '../../../relay/core/hub.ts';
import { CameraRecorder } from '../../../relay/recording/recorder.ts';
import { SegmentIndex } from '../../../relay/recording/segment-index.ts';
import { startTestEncodedSource } from '../../helpers/encoded-source.ts';
import { childFfmpegProcesses, waitFor } from '../../helpers/probe.ts';
import { gatedSource, keptLogger, probeFile, sleep, smallDisk, tempDir } from './fixtures.ts';

async function setup(t: Test, options: { segmentSeconds?: number; now?: () => number; dir?: string } = {}) {
  const { dir, cleanup } = options.dir ? { dir: options.dir, cleanup: async () => {} } : await tempDir('relay-rec-');
  const { hub, source, gate } = gatedSource({ rate: 10, gop: 10 });
  const index = new SegmentIndex(dir);
  const { log, lines } = keptLogger();
  const recorder = new CameraRecorder({ camera: 'cam', segmentSeconds: options.segmentSeconds ?? 2, source: hub, index, log, now: options.now });
  recorder.start();
  t.teardown(async () => {
    await recorder.stop();
    source.stop();
    await cleanup();
  });
  return { dir, index, recorder, gate, lines, source };
}

async function filesOf(dir: string): Promise<string[]> {
  const days = await readdir(join(dir, 'cam')).catch(() => []);
  const files: string[] = [];
  for (const day of days) for (const file of await readdir(join(dir, 'cam', day))) files.push(join(dir, 'cam', day, file));
  return files.sort();
}

// First and alone: it counts every ffmpeg this process runs. The others, each with its own source, directory and
// recorder, mostly wait for the camera's clock, so they run side by side.
await t.test('no process is started per segment: the relay writes the files itself', async (t) => {
  // Guards: each segment was written by its own ffmpeg (a process per camera, restarted at every segment).
  const { index, recorder, source } = await setup(t, { segmentSeconds: 1 });
  const seen = new Set<string>();
  while (index.segments('cam').length < 4) {
    for (const child of childFfmpegProcesses(process.pid)) if (child.pid !== source.process.pid) seen.add(child.cmdline);
    await sleep(100);
  }
  await recorder.stop();
  t.same([...seen], [], 'no ffmpeg besides the test source ran while four segments were written');
  t.ok(recorder.status.segmentsWritten >= 3, `${recorder.status.segmentsWritten} segments written`);
});

t.jobs = 6;

t.test('segments are cut at keyframes after RecordSegmentSeconds, named by UTC start, and each one decodes', async (t) => {
  const { dir, index, recorder } = await setup(t);
  await waitFor(() => index.segments('cam').length >= 4, 20_000, 'four segments');
  await recorder.stop();
  const segments = index.segments('cam');
  const files = await filesOf(dir);
  t.equal(files.length, segments.length, 'one file per indexed segment');
  for (const [i, segment] of segments.entries()) {
    t.match(segment.path, /^cam\/\d{4}-\d{2}-\d{2}\/\d{2}-\d{2}-\d{2}\.\d{3}\.mp4$/);
    const probed = await probeFile(join(dir, segment.path));
    t.same([probed.width, probed.height], [320, 240], `${segment.path} decodes at the source size`);
    // The last one may have opened just before stop().
    t.ok(probed.frames >= (i < segments.length - 1 ? 19 : 1), `${segment.path} holds ${probed.frames} frames`);
  }
  const whole = segments.slice(0, -1);
  for (const segment of whole) {
    const seconds = (segment.end - segment.start) / 1000;
    t.ok(seconds >= 1.9 && seconds <= 3.2, `a segment covers about 2 s (keyframes every 1 s): ${seconds}`);
  }
  t.equal(index.spans('cam', 0, Date.now() + 1000).length, 1, 'back-to-back segments list as one span');
  // Guards: a segment whose file ffmpeg had not created yet was taken for a deleted one and ended with an error.
  t.equal(recorder.status.writeErrors, 0, 'no write error in normal recording');
});

t.test('the disk fills mid-segment: the cut file plays up to its last fragment and recording goes on', async (t) => {
  const disk = await smallDisk(t, '8m');
  const { dir, index, recorder, lines } = await setup(t, { segmentSeconds: 30, dir: disk });
  await waitFor(() => (index.segments('cam')[0]?.end ?? 0) - (index.segments('cam')[0]?.start ?? 0) > 2500, 15_000, '2.5 s recorded');
  const victim = index.segments('cam')[0]!;
  // Another file takes every byte left, so the segment's next fragment meets ENOSPC.
  const filler = join(disk, 'filler');
  const handle = openSync(filler, 'w');
  try {
    for (const chunk = Buffer.alloc(64 * 1024); ;) writeSync(handle, chunk);
  } catch (error) {
    t.equal((error as NodeJS.ErrnoException).code, 'ENOSPC', 'the disk is full');
  } finally {
    closeSync(handle);
  }
  await waitFor(() => recorder.status.writeErrors > 0, 15_000, 'the write failure noticed');
  await rm(filler);
  await waitFor(() => index.segments('cam').length >= 2, 15_000, 'a new segment after the failure');
  t.ok(lines.some((line) => /error .*writing cam\/.*failed: no space left on device \(ENOSPC\)/.test(line)), 'the failure is logged');
  t.equal(recorder.status.writeErrors, 1);
  const probed = await probeFile(join(dir, victim.path));
  t.ok(probed.frames >= 20, `the cut segment still decodes (${probed.frames} frames)`);
  await recorder.stop();
  for (const file of await filesOf(dir)) t.ok((await probeFile(file)).frames > 0, `${file} plays`);
});

t.test('an encoder restart with a new picture size: the segment ends and the next file has its own init segment', async (t) => {
  // Guards: frames of a new track written under the old track's parameters (an undecodable file after a restart).
  const { dir, cleanup } = await tempDir('relay-rec-restart-');
  const hub = new EncodedHub('restarting');
  const index = new SegmentIndex(dir);
  const { log, lines } = keptLogger();
  const recorder = new CameraRecorder({ camera: 'cam', segmentSeconds: 60, source: hub, index, log });
  recorder.start();
  let source = startTestEncodedSource({ size: '320x240', rate: 10, gop: 10 });
  source.hub.subscribe((frame) => hub.publish(frame));
  t.teardown(async () => {
    await recorder.stop();
    source.stop();
    await cleanup();
  });
  await waitFor(() => (index.segments('cam')[0]?.end ?? 0) - (index.segments('cam')[0]?.start ?? 0) > 2000, 15_000, '2 s recorded');
  source.stop();
  source = startTestEncodedSource({ size: '160x120', rate: 10, gop: 10 });
  source.hub.subscribe((frame) => hub.publish(frame));
  await waitFor(() => index.segments('cam').length === 2 && index.segments('cam')[1]!.end - index.segments('cam')[1]!.start > 1500, 15_000, 'a second segment');
  await recorder.stop();
  t.ok(lines.some((line) => /ends early: the encoder restarted/.test(line)), 'the restart ended the first segment');
  const [first, second] = index.segments('cam');
  const before = await probeFile(join(dir, first!.path));
  const after = await probeFile(join(dir, second!.path));
  t.same([before.width, before.height], [320, 240], `the first file decodes at the old size (${before.frames} frames)`);
  t.same([after.width, after.height], [160, 120], `the second file decodes at the new size (${after.frames} frames)`);
  t.ok(before.frames >= 20 && after.frames >= 10, 'both hold their frames');
});

t.test('a camera outage ends the segment and leaves a gap, not frozen frames', async (t) => {
  const { index, recorder, gate, lines } = await setup(t, { segmentSeconds: 60 });
  await waitFor(() => index.segments('cam').length === 1 && index.segments('cam')[0]!.end - index.segments('cam')[0]!.start > 2000, 15_000, 'recording');
  gate.paused = true;
  await sleep(6500);
  gate.paused = false;
  await waitFor(() => index.segments('cam').length === 2, 10_000, 'a new segment after the outage');
  await sleep(1500);
  await recorder.stop();
  t.ok(lines.some((line) => /ends early: no video for 5 s/.test(line)), 'the outage ended the first segment');
  const spans = index.spans('cam', 0, Date.now() + 1000);
  t.equal(spans.length, 2, 'two spans with a gap between them');
  t.ok(spans[1]!.start - spans[0]!.end >= 4000, `the gap is the outage (${spans[1]!.start - spans[0]!.end} ms)`);
});

t.test('a clock that stands still or steps back never makes two segments share a name', async (t) => {
  let clock = Date.UTC(2026, 10, 21, 12, 0, 0, 0);
  const { dir, index, recorder } = await setup(t, { segmentSeconds: 2, now: () => clock });
  await waitFor(() => index.segments('cam').length >= 2, 15_000, 'two segments at one clock reading');
  clock -= 3_600_000; // the clock steps back an hour, then forward onto the first names again
  await waitFor(() => index.segments('cam').length >= 3, 15_000, 'a segment after the step back');
  clock += 3_600_000;
  await waitFor(() => index.segments('cam').length >= 5, 15_000, 'segments after the step forward');
  await recorder.stop();
  const paths = index.segments('cam').map((segment) => segment.path);
  t.equal(new Set(paths).size, paths.length, `names are unique: ${paths.join(', ')}`);
  t.ok(paths.includes('cam/2026-11-21/12-00-00.000.mp4') && paths.includes('cam/2026-11-21/12-00-00.001.mp4'), 'the same millisecond gets the next name');
  const files = await filesOf(dir);
  t.equal(files.length, paths.length, 'no file was overwritten');
  for (const file of files) t.ok((await probeFile(file)).frames > 0, `${file} plays`);
});

t.test('the recording directory removed while recording: an error, then recording resumes in a new folder', async (t) => {
  const { dir, index, recorder, lines } = await setup(t, { segmentSeconds: 60 });
  await waitFor(() => index.segments('cam')[0]?.bytes ? true : false, 15_000, 'a segment on disk');
  await rm(join(dir, 'cam'), { recursive: true, force: true });
  await waitFor(() => recorder.status.writeErrors > 0, 10_000, 'the loss noticed');
  t.ok(lines.some((line) => /disappeared while being written/.test(line)), 'logged');
  t.equal(recorder.status.state === 'error' || recorder.status.state === 'recording', true);
  await waitFor(async () => (await filesOf(dir)).length === 1, 15_000, 'a new segment file');
  await sleep(2500);
  const [file] = await filesOf(dir);
  t.ok((await probeFile(file!)).frames > 0, 'the new segment plays');
  t.equal(index.segments('cam').length, 1, 'the deleted segment left the index');
});
