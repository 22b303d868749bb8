import { copyFile, mkdir, readFile, truncate, utimes, writeFile, symlink } from 'node:fs/promises';
import { join } from 'node:path';
import t from 'tap';
import { scanFragmentedMp4, Mp4ScanError } from '../../../relay/recording/mp4-scan.ts';
import { segmentRelativePath, segmentStart } from '../../../relay/recording/names.ts';
import { SegmentIndex } from '../../../relay/recording/segment-index.ts';
import { prng } from '../../helpers/prng.ts';
import { keptLogger, makeSegmentFile, probeFile, tempDir } from './fixtures.ts';

const T0 = Date.UTC(2026, 10, 21, 12, 0, 0, 0);

t.test('segment names: UTC start with milliseconds, and only names the recorder writes are read back', async (t) => {
  t.equal(segmentRelativePath('cam', T0 + 123), 'cam/2026-11-21/12-00-00.123.mp4');
  t.equal(segmentStart('2026-11-21', '12-00-00.123.mp4'), T0 + 123);
  for (const [day, file] of [['2026-02-31', '12-00-00.000.mp4'], ['2026-11-21', '25-00-00.000.mp4'], ['2026-11-21', '12-00-00.mp4'],
    ['2026-11-21', '../12-00-00.000.mp4'], ['..', '12-00-00.000.mp4'], ['2026-11-21', '12-00-00.000.mp4.tmp'], ['9999-99-99', '12-00-00.000.mp4']] as const) {
    t.equal(segmentStart(day, file), undefined, `${day}/${file} is not a segment`);
  }
});

t.test('the index is built from the files: ends from the next start, the last one scanned, gaps split spans', async (t) => {
  const { dir, cleanup } = await tempDir('relay-index-');
  t.teardown(cleanup);
  const sample = join(dir, 'sample.mp4');
  await makeSegmentFile(sample, 3);
  const starts = [T0, T0 + 3000, T0 + 6000, T0 + 60_000];
  for (const start of starts) {
    const path = join(dir, segmentRelativePath('cam', start));
    await mkdir(join(path, '..'), { recursive: true });
    await copyFile(sample, path);
    // As the recorder leaves them: last written when the segment ended.
    await utimes(path, new Date(start + 3000), new Date(start + 3000));
  }
  // Things that are not segments are skipped, not fatal.
  await writeFile(join(dir, 'cam', '2026-11-21', 'notes.txt'), 'hello');
  await mkdir(join(dir, '..weird'), { recursive: true });
  await symlink('/etc', join(dir, 'cam', 'etc')).catch(() => {});
  const index = new SegmentIndex(dir);
  const { log } = keptLogger();
  await index.build(log);
  t.same(index.cameras, ['cam']);
  t.equal(index.segments('cam').length, 4);
  const last = index.segments('cam').at(-1)!;
  t.equal(last.end - last.start, 3000, 'the last segment ends where its last fragment ends');
  const spans = index.spans('cam', 0, T0 + 86_400_000);
  t.equal(spans.length, 2, 'a gap splits the spans');
  t.equal(spans[0]!.start, T0);
  t.equal(spans[1]!.start, T0 + 60_000);
  t.same(index.spans('cam', T0 + 1000, T0 + 2000), [{ start: T0 + 1000, end: T0 + 2000 }], 'spans are clipped to the range');
  t.same(index.overlapping('cam', T0 + 7000, T0 + 7001).map((s) => s.start), [T0 + 6000]);
  t.same(index.overlapping('cam', T0 + 10_000, T0 + 50_000), [], 'nothing in the gap');
});

t.test('a truncated or corrupted last segment is indexed, never fatal', async (t) => {
  const { dir, cleanup } = await tempDir('relay-index-');
  t.teardown(cleanup);
  const sample = join(dir, 'sample.mp4');
  await makeSegmentFile(sample, 4);
  const size = (await readFile(sample)).length;
  const cut = join(dir, segmentRelativePath('cut', T0));
  await mkdir(join(cut, '..'), { recursive: true });
  await copyFile(sample, cut);
  await truncate(cut, Math.floor(size * 0.6)); // cut inside a fragment, as a crash leaves it
  const garbage = join(dir, segmentRelativePath('bad', T0));
  await mkdir(join(garbage, '..'), { recursive: true });
  await writeFile(garbage, Buffer.alloc(50_000, 0x41));
  const index = new SegmentIndex(dir);
  const { log, lines } = keptLogger();
  await index.build(log);
  const cutSegment = index.segments('cut')[0]!;
  const seconds = (cutSegment.end - cutSegment.start) / 1000;
  t.ok(seconds >= 1 && seconds < 4, `the cut file covers its whole fragments (${seconds} s)`);
  t.ok((await probeFile(cut)).frames >= seconds * 10, 'and ffprobe decodes at least that much');
  t.ok(lines.some((line) => /cut\/.*ends inside a box/.test(line)), 'the cut is logged');
  t.equal(index.segments('bad').length, 1, 'a garbage file is kept in the index for retention');
  t.same(index.spans('bad', 0, T0 * 2), [], 'but lists no time');
  t.ok(lines.some((line) => /bad\/.*not a readable recording/.test(line)));
});

t.test('mp4 scan: hostile files give a clear error or a short result, never a crash or a huge read', async (t) => {
  const { dir, cleanup } = await tempDir('relay-scan-');
  t.teardown(cleanup);
  const sample = join(dir, 'sample.mp4');
  await makeSegmentFile(sample, 2);
  const good = await readFile(sample);
  const file = join(dir, 'x.mp4');
  const scan = async (bytes: Buffer) => {
    await writeFile(file, bytes);
    return scanFragmentedMp4(file);
  };
  await t.rejects(scan(Buffer.alloc(0)), Mp4ScanError, 'empty');
  await t.rejects(scan(Buffer.from('not an mp4 file at all')), Mp4ScanError, 'text');
  const huge = Buffer.from(good);
  huge.writeUInt32BE(1, 0);
  huge.writeBigUInt64BE(2n ** 62n, 8); // a 64-bit size far past the end
  await t.rejects(scan(huge), Mp4ScanError, 'an ftyp claiming exabytes leaves no moov');
  const tiny = Buffer.from(good);
  tiny.writeUInt32BE(3, 0);
  await t.rejects(scan(tiny), Mp4ScanError, 'a box smaller than its header');
  const random = prng(7);
  for (let i = 0; i < 30; i++) {
    const mangled = Buffer.from(good);
    for (let j = 0; j < 20; j++) mangled[Math.floor(random() * mangled.length)] = Math.floor(random() * 256);
    try {
      const result = await scan(mangled);
      t.ok(result.durationSeconds >= 0 && result.durationSeconds < 1e6, `mangled ${i}: ${result.durationSeconds} s`);
    } catch (error) {
      t.type(error, Mp4ScanError, `mangled ${i}: ${(error as Error).message}`);
    }
  }
});
