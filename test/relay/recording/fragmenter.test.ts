// Guards: a segment written in-process kept frames unwritten longer than a second (lost on kill -9), or wrote
// fragments whose times do not add up to the media given, or threw on a folder that is gone instead of reporting it.
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import t from 'tap';
import { h264Track } from '../../../media/h264/params.ts';
import type { AudioUnit } from '../../../adapters/types.ts';
import type { AudioTrack, H264Unit } from '../../../media/types.ts';
import { FRAGMENT_MS, Fmp4Fragmenter } from '../../../relay/recording/fragmenter.ts';
import { scanFragmentedMp4 } from '../../../relay/recording/mp4-scan.ts';
import { SegmentWriter } from '../../../relay/recording/segment-writer.ts';
import { waitFor } from '../../helpers/probe.ts';
import { sleep, tempDir } from './fixtures.ts';

const track = h264Track(Buffer.from('67f40016919b281405ff138088000003000800000300a078b16cb0', 'hex'), Buffer.from('68ebe3c44844', 'hex'));

/** Frame `i` of a 25 fps stream starting at `base` ms, a keyframe every `gop` frames. */
function frameAt(i: number, gop = 50, base = 10_000): H264Unit {
  const keyframe = i % gop === 0;
  return { track, data: [Buffer.from([keyframe ? 0x65 : 0x41, i & 0xff, 0x80])], pts: base + i * 40, dts: base + i * 40, keyframe };
}

t.test('fragments are cut at keyframes and every half second, and their times add up to the media given', async (t) => {
  const { dir, cleanup } = await tempDir('relay-frag-');
  t.teardown(cleanup);
  const fragmenter = new Fmp4Fragmenter(track);
  const chunks: Buffer[] = [];
  let maxUnwritten = 0;
  for (let i = 0; i < 75; i++) {
    // Keyframes at 0, 50 (2 s), and one off the half-second grid at 57.
    const frame = i === 57 ? { ...frameAt(i), keyframe: true } : frameAt(i);
    chunks.push(...fragmenter.push(frame, i * 40));
    maxUnwritten = Math.max(maxUnwritten, fragmenter.pendingFrames * 40);
  }
  t.ok(maxUnwritten <= FRAGMENT_MS + 40, `at most ${maxUnwritten} ms of media waits for the disk`);
  chunks.push(fragmenter.flush()!);
  t.equal(fragmenter.flush(), undefined, 'nothing left after a flush');
  const file = join(dir, 'a.mp4');
  await writeFile(file, Buffer.concat(chunks));
  const scan = await scanFragmentedMp4(file);
  t.equal(scan.truncated, false);
  t.equal(scan.durationSeconds, 3, '75 frames at 25 fps, the last one lasting the usual interval');
  // Frames 0-12, 13-25, 26-38, 39-49, 50 (keyframe)-56, 57 (keyframe)-69, 70-74: each keyframe opens a fragment.
  t.equal(scan.fragments, 7, 'fragments of at most half a second, each keyframe opening one');
  t.equal(chunks[0]!.subarray(4, 8).toString('latin1'), 'ftyp', 'the init segment comes first');
});

t.test('a stalled source: the frames written so far reach the disk within a second, and close ends the file cleanly', async (t) => {
  const { dir, cleanup } = await tempDir('relay-frag-');
  t.teardown(cleanup);
  const path = join(dir, 'stall.mp4');
  const writer = new SegmentWriter(path);
  for (let i = 0; i < 16; i++) t.ok(writer.write(frameAt(i)), `frame ${i} taken`);
  await sleep(200);
  t.equal((await scanFragmentedMp4(path)).fragments, 1, 'frames 0-12 are on disk as soon as frame 13 closed their half second');
  // No 17th frame comes: the last frames must not wait for it longer than a second.
  await waitFor(async () => (await scanFragmentedMp4(path)).fragments === 2, 1500, 'the waiting frames written');
  t.equal((await scanFragmentedMp4(path)).durationSeconds, 0.64, 'all 16 frames on disk, the last lasting one interval');
  t.equal((await writer.close()).failed, undefined, 'a clean close');
  t.equal((await writer.close()).failed, undefined, 'close twice is safe');
  t.equal((await readFile(path)).length > 0, true);
  t.notOk(writer.write(frameAt(16)), 'no frame is taken after close');
});

t.test('a segment whose folder is gone ends with a clear reason, not an exception', async (t) => {
  const { dir, cleanup } = await tempDir('relay-frag-');
  t.teardown(cleanup);
  const writer = new SegmentWriter(join(dir, 'missing', 'x.mp4'));
  writer.write(frameAt(0));
  const end = await writer.ended;
  t.equal(end.failed, 'the file or its folder is gone (ENOENT)');
  t.notOk(writer.write(frameAt(1)), 'a failed writer takes no frame');
  t.same(await writer.close(), end, 'close after a failure answers the same end');
});

t.test('a new track is refused: a new track is a new file with its own init segment', async (t) => {
  const { dir, cleanup } = await tempDir('relay-frag-');
  t.teardown(cleanup);
  const writer = new SegmentWriter(join(dir, 'x.mp4'));
  t.ok(writer.write(frameAt(0)));
  const restarted = { ...frameAt(1), track: { ...track }, keyframe: true };
  t.notOk(writer.write(restarted), 'a keyframe of another track is not written into this file');
  t.equal((await writer.close()).failed, undefined);
});

t.test('with sound: each video fragment is followed by the sound of its span, and the scan measures the picture', async (t) => {
  // Guards: sound fragments (48 kHz ticks) were read as video (90 kHz), so an indexed segment's length came out wrong.
  const { dir, cleanup } = await tempDir('relay-frag-');
  t.teardown(cleanup);
  const audio: AudioTrack = { kind: 'audio', codec: 'aac', clockRate: 48000, sampleRate: 48000, channels: 1, config: Buffer.from('1188', 'hex') };
  const fragmenter = new Fmp4Fragmenter(track, audio);
  const frameMs = 1024 / 48;
  const sounds = Array.from({ length: 150 }, (_, i): AudioUnit => ({ track: audio, data: Buffer.from([0x21, i & 0xff]), pts: 9_950 + i * frameMs, dts: 9_950 + i * frameMs, keyframe: true }));
  const chunks: Buffer[] = [];
  let given = 0;
  let accepted = 0;
  for (let i = 0; i < 75; i++) {
    const frame = frameAt(i);
    if (i === 0) chunks.push(...fragmenter.push(frame, i * 40)); // the file starts with its first picture
    for (; given < sounds.length && sounds[given]!.dts < frame.dts; given++) if (fragmenter.pushAudio(sounds[given]!)) accepted++;
    if (i > 0) chunks.push(...fragmenter.push(frame, i * 40));
  }
  chunks.push(fragmenter.flush()!);
  t.equal(accepted, given - 3, 'the sound from before the first picture (3 frames) is not written');
  const bytes = Buffer.concat(chunks);
  t.ok(chunks[0]!.includes(Buffer.from('mp4a')), 'the init segment announces the audio track');
  // Track IDs of the fragments in file order: video (1) then audio (2), span by span.
  const tracks: number[] = [];
  for (let at = bytes.indexOf('tfhd'); at >= 0; at = bytes.indexOf('tfhd', at + 4)) tracks.push(bytes.readUInt32BE(at + 8));
  t.same(tracks, [1, 2, 1, 2, 1, 2, 1, 2, 1, 2, 1, 2], 'each video fragment, then the sound of its span');
  const file = join(dir, 'av.mp4');
  await writeFile(file, bytes);
  const scan = await scanFragmentedMp4(file);
  t.equal(scan.durationSeconds, 3, 'the length is the picture\'s, 75 frames at 25 fps');
});
