import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import type { AudioTrack } from '../../../media/types.ts';
import { HlsPackager, type HlsPackagerOptions, type HlsSegment } from '../../../relay/hls/packager.ts';
import { renderLowLatencyPlaylist, renderPlaylist } from '../../../relay/hls/playlist.ts';
import { startTestEncodedSource, type TestEncodedSource } from '../../helpers/encoded-source.ts';
import { ffprobe } from '../../helpers/probe.ts';

const dir = await mkdtemp(join(tmpdir(), 'hls-packager-'));
t.teardown(() => rm(dir, { recursive: true, force: true }));

/** Feeds a packager from a live x264 source until `count` segments are complete. */
async function package_(packager: HlsPackager, source: TestEncodedSource, count: number): Promise<HlsSegment[]> {
  const unsubscribe = source.hub.subscribe((frame) => packager.push(frame));
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`fewer than ${count} segments in 20 s`)), 20_000);
      const stop = packager.onChange(() => {
        if (packager.segments.length < count) return;
        clearTimeout(timer);
        stop();
        resolve();
      });
    });
  } finally {
    unsubscribe();
  }
  return packager.segments;
}

const options = (container: 'ts' | 'fmp4'): HlsPackagerOptions => ({ container, segmentSeconds: 1, listSize: 3, partSeconds: 0.3 });

t.test('MPEG-TS segments: cut at keyframes, one second each, decoded by ffprobe with every frame', async (t) => {
  const source = startTestEncodedSource({ size: '320x240', rate: 25, gop: 25 });
  t.teardown(source.stop);
  const packager = new HlsPackager(options('ts'), 'cam/');
  const segments = await package_(packager, source, 3);
  t.same(segments.map((segment) => segment.sequence), [0, 1, 2], 'media sequence from 0');
  for (const segment of segments) {
    t.match(segment.name, new RegExp(`^cam/${packager.runId}-${segment.sequence}\\.ts$`));
    t.equal(segment.data!.length % 188, 0, 'whole TS packets');
    t.ok(Math.abs(segment.duration - 1) < 0.05, `segment ${segment.sequence} lasts ${segment.duration} s`);
  }
  const file = join(dir, 'one.ts');
  await writeFile(file, segments[1]!.data!);
  const probed = await ffprobe(file, 10);
  t.equal(probed.codec_name, 'h264');
  t.equal(probed.width, 320);
  t.equal(probed.height, 240);
  t.equal(segments[1]!.frames, 25);
  t.equal(probed.nb_read_frames, '25', 'all 25 frames of the segment decode');
});

t.test('fMP4 segments of parts: init + segment and init + each part decode with the right frame count', async (t) => {
  const source = startTestEncodedSource({ size: '320x240', rate: 25, gop: 25 });
  t.teardown(source.stop);
  const packager = new HlsPackager(options('fmp4'), 'cam/');
  const segments = await package_(packager, source, 2);
  const segment = segments[1]!;
  const init = segment.init!;
  t.match(init.name, new RegExp(`^cam/${packager.runId}-init1\\.mp4$`));
  t.ok(segment.parts.length >= 4, `${segment.parts.length} parts in a one-second segment`);
  t.ok(segment.parts.every((part) => part.duration <= 0.3 + 1e-9), 'no part is longer than the part target');
  t.ok(segment.parts.slice(0, -1).every((part) => part.duration >= 0.2), 'parts before the last last 200-300 ms');
  t.ok(segment.parts[0]!.independent, 'the first part starts with a keyframe');
  t.equal(segment.parts.filter((part) => part.independent).length, 1, 'only the first part does (one keyframe per segment)');
  t.same(segment.data, Buffer.concat(segment.parts.map((part) => part.data)), 'the segment is its parts');
  const whole = join(dir, 'whole.mp4');
  await writeFile(whole, Buffer.concat([init.data, segment.data!]));
  const probed = await ffprobe(whole, 10);
  t.equal(probed.codec_name, 'h264');
  t.equal(probed.width, 320);
  t.equal(probed.height, 240);
  t.equal(probed.nb_read_frames, '25');
  let frames = 0;
  for (const [i, part] of segment.parts.entries()) {
    const file = join(dir, `part${i}.mp4`);
    // Parts after the first need the earlier frames of their group to decode, as a player has them.
    await writeFile(file, Buffer.concat([init.data, ...segment.parts.slice(0, i + 1).map((p) => p.data)]));
    frames = Number((await ffprobe(file, 10)).nb_read_frames);
  }
  t.equal(frames, 25, 'init + parts decode all frames');
});

t.test('an encoder restart (new track) starts a discontinuity; sequence and names go on', async (t) => {
  for (const container of ['ts', 'fmp4'] as const) {
    const first = startTestEncodedSource({ size: '320x240', rate: 25, gop: 25 });
    const packager = new HlsPackager(options(container), 'cam/');
    await package_(packager, first, 2);
    first.stop();
    const before = packager.segments.map((segment) => segment.name);
    const second = startTestEncodedSource({ size: '160x120', rate: 25, gop: 25 });
    t.teardown(second.stop);
    const segments = await package_(packager, second, 4);
    second.stop();
    const after = segments.filter((segment) => !before.includes(segment.name));
    const restart = after.find((segment) => segment.discontinuity);
    t.ok(restart, `${container}: a segment marks the discontinuity`);
    t.equal(after.filter((segment) => segment.discontinuity).length, 1, `${container}: exactly one`);
    t.equal(restart!.discontinuitySequence, 1);
    const sequences = segments.map((segment) => segment.sequence);
    t.same(sequences, sequences.map((_, i) => sequences[0]! + i), `${container}: media sequence has no gap and never resets`);
    t.equal(new Set(segments.map((segment) => segment.name)).size, segments.length, `${container}: names are unique`);
    if (container === 'fmp4') {
      t.not(restart!.init!.name, segments[0]!.init!.name, 'a new init segment for the new track');
      const file = join(dir, 'restart.mp4');
      await writeFile(file, Buffer.concat([restart!.init!.data, restart!.data!]));
      const probed = await ffprobe(file, 10);
      t.same([probed.width, probed.height], [160, 120], 'the new init describes the new size');
    }
  }
});

t.test('sound that starts after the first segment: each segment keeps its discontinuity number as the list slides', async (t) => {
  // Guards the playlists' EXT-X-DISCONTINUITY-SEQUENCE counting the first listed segment's discontinuity twice: hls.js
  // refused the reload ("discontinuity sequence mismatch") and could append a segment of the new program as the old one.
  const aac: AudioTrack = { kind: 'audio', codec: 'aac', clockRate: 48000, sampleRate: 48000, channels: 1, config: Buffer.from('1188', 'hex') };
  for (const container of ['ts', 'fmp4'] as const) {
    const source = startTestEncodedSource({ size: '160x120', rate: 25, gop: 25 });
    t.teardown(source.stop);
    const packager = new HlsPackager(options(container), 'cam/');
    await package_(packager, source, 1);
    const render = container === 'ts' ? renderPlaylist : renderLowLatencyPlaylist;
    /** Each segment's discontinuity number in every playlist that listed it. */
    const numbers = new Map<string, Set<number>>();
    const stopWatching = packager.onChange(() => {
      let number = -1;
      for (const line of (render(packager) ?? '').split('\n')) {
        const sequence = /^#EXT-X-DISCONTINUITY-SEQUENCE:(\d+)$/.exec(line);
        if (sequence) number = Number(sequence[1]);
        else if (line === '#EXT-X-DISCONTINUITY') number++;
        else if (line.startsWith('cam/')) numbers.set(line, (numbers.get(line) ?? new Set()).add(number));
      }
    });
    const withSound = source.hub.subscribe((frame) => packager.pushAudio({ track: aac, data: Buffer.alloc(20), pts: frame.pts, dts: frame.pts, keyframe: true }));
    await package_(packager, source, 5);
    withSound();
    stopWatching();
    t.ok(packager.segments.some((segment) => segment.discontinuity), `${container}: the sound's start is a discontinuity`);
    const changed = [...numbers].filter(([, seen]) => seen.size > 1).map(([name, seen]) => `${name}: ${[...seen].join(' then ')}`);
    t.same(changed, [], `${container}: no segment changes its discontinuity number between playlists`);
  }
});

t.test('packagers never share names: each run has its own prefix', async (t) => {
  const names = new Set<string>();
  for (let i = 0; i < 100; i++) names.add(new HlsPackager(options('ts'), 'cam/').runId);
  t.equal(names.size, 100);
});
