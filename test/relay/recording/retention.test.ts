import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { Retention, type RetentionLimits } from '../../../relay/recording/retention.ts';
import { segmentRelativePath } from '../../../relay/recording/names.ts';
import { SegmentIndex, type Segment } from '../../../relay/recording/segment-index.ts';
import { keptLogger, tempDir } from './fixtures.ts';

const NOW = Date.UTC(2026, 10, 21, 12, 0, 0, 0);
const MINUTE = 60_000;

/** Writes `count` one-minute segments of `bytes` each per camera, the newest ending at NOW; the newest is open. */
async function archive(t: Test, cameras: string[], count: number, bytes: number): Promise<SegmentIndex> {
  const { dir, cleanup } = await tempDir('relay-retention-');
  t.teardown(cleanup);
  const index = new SegmentIndex(dir);
  for (const camera of cameras) {
    for (let i = count; i >= 1; i--) {
      const start = NOW - i * MINUTE;
      const path = segmentRelativePath(camera, start);
      await mkdir(join(dir, path, '..'), { recursive: true });
      await writeFile(join(dir, path), Buffer.alloc(bytes));
      index.add({ camera, start, end: start + MINUTE, bytes, path, open: i === 1 });
    }
  }
  return index;
}

const limits = (overrides: Partial<RetentionLimits> & { camera?: { deleteAfterMs: number; maxBytes: number } }): RetentionLimits => ({
  cameras: new Map([['a', overrides.camera ?? { deleteAfterMs: 0, maxBytes: 0 }], ['b', { deleteAfterMs: 0, maxBytes: 0 }]]),
  maxTotalBytes: overrides.maxTotalBytes ?? 0,
  minFreeBytes: overrides.minFreeBytes ?? 0,
});
const starts = (segments: readonly Segment[]) => segments.map((segment) => (NOW - segment.start) / MINUTE);

t.test('by age: segments that ended before RecordDeleteAfter go, the rest stay', async (t) => {
  const index = await archive(t, ['a', 'b'], 10, 1000);
  const { log, lines } = keptLogger();
  const retention = new Retention(index, limits({ camera: { deleteAfterMs: 5 * MINUTE, maxBytes: 0 } }), log, () => 1e12);
  retention.run(NOW);
  t.same(starts(index.segments('a')), [6, 5, 4, 3, 2, 1], 'ended 5 min ago or later are kept');
  t.equal(index.segments('b').length, 10, 'a camera without RecordDeleteAfter keeps everything');
  t.same(retention.deletions.age, { files: 4, bytes: 4000 });
  t.equal(lines.filter((line) => /retention deleted/.test(line)).length, 1, 'one log line per pass');
  t.match(lines.join('\n'), /deleted 4 file\(s\), 4000 bytes by age \(RecordDeleteAfter\)/);
  t.notOk(existsSync(join(index.root, segmentRelativePath('a', NOW - 10 * MINUTE))), 'the file is gone');
  retention.run(NOW);
  t.equal(lines.filter((line) => /retention deleted/.test(line)).length, 1, 'a pass that deletes nothing logs nothing');
});

t.test('by camera size, then total size: oldest first, never the open segment', async (t) => {
  const index = await archive(t, ['a', 'b'], 10, 1000);
  const { log } = keptLogger();
  const retention = new Retention(index, limits({ camera: { deleteAfterMs: 0, maxBytes: 3500 }, maxTotalBytes: 8000 }), log, () => 1e12);
  retention.run(NOW);
  t.same(starts(index.segments('a')), [3, 2, 1], 'camera a is cut to its cap');
  t.same(starts(index.segments('b')), [5, 4, 3, 2, 1], 'b loses its oldest until the total fits');
  t.same(retention.deletions.cameraSize.files, 7);
  t.same(retention.deletions.totalSize.files, 5);
});

t.test('an open segment over every cap is kept: the cap holds up to one segment', async (t) => {
  const index = await archive(t, ['a'], 3, 5000);
  const { log } = keptLogger();
  const retention = new Retention(index, limits({ camera: { deleteAfterMs: 1, maxBytes: 100 }, maxTotalBytes: 100, minFreeBytes: 1e15 }), log, () => 0);
  retention.run(NOW);
  t.same(starts(index.segments('a')), [1]);
  t.ok(index.segments('a')[0]!.open);
});

t.test('free space: oldest deleted across cameras until RecordMinFreeSpace is free', async (t) => {
  const index = await archive(t, ['a', 'b'], 5, 1000);
  const { log, lines } = keptLogger();
  let free = 500;
  const retention = new Retention(index, limits({ minFreeBytes: 3000 }), log, () => free);
  retention.run(NOW);
  t.equal(retention.deletions.freeSpace.files, 3, 'three 1000-byte files bring 500 free bytes to 3500');
  t.equal(index.all().length, 7);
  // Both 5-minute-old segments and one of the 4-minute-old ones went: oldest first across cameras.
  t.same(index.all().map((segment) => (NOW - segment.start) / MINUTE).sort(), [1, 1, 2, 2, 3, 3, 4]);
  t.match(lines.join('\n'), /by free space \(RecordMinFreeSpace 3000\)/);
  free = 1e12;
  retention.run(NOW);
  t.equal(index.all().length, 7, 'enough free space: nothing more deleted');
});

t.test('a file that cannot be deleted is counted and logged, and stays indexed', async (t) => {
  const index = await archive(t, ['a'], 3, 1000);
  const { log, lines } = keptLogger();
  const first = index.segments('a')[0]!;
  // A directory where the file should be: unlink fails with EISDIR/EPERM whoever runs the test.
  const { rm } = await import('node:fs/promises');
  await rm(join(index.root, first.path));
  await mkdir(join(index.root, first.path, 'inner'), { recursive: true });
  const retention = new Retention(index, limits({ camera: { deleteAfterMs: 0, maxBytes: 1500 } }), log, () => 1e12);
  retention.run(NOW);
  t.equal(retention.deleteErrors, 1);
  t.ok(index.segments('a').includes(first), 'still indexed');
  t.match(lines.join('\n'), /cannot delete a\/.*: E(ISDIR|PERM)/);
});
