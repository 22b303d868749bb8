import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import t from 'tap';
import { exportFrames, frameName } from '../../../relay/recording/export.ts';
import type { Segment } from '../../../relay/recording/segment-index.ts';
import { zipEntryNames } from './fixtures.ts';

const run = promisify(execFile);

t.test('segments whose times overlap by a few ms never give one second\'s picture twice', async (t) => {
  // Guards against /record/frames naming a time twice when a segment's end (start plus media span) passes the next one's start.
  const root = await mkdtemp(join(tmpdir(), 'relay-export-'));
  t.teardown(() => rm(root, { recursive: true, force: true }));
  for (const [name, seconds] of [['a.mp4', 4], ['b.mp4', 3]] as const) {
    await run('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-f', 'lavfi', '-i', `testsrc=size=160x120:rate=5:duration=${seconds}`,
      '-c:v', 'libx264', '-preset', 'ultrafast', '-g', '5', '-pix_fmt', 'yuv420p', join(root, name)], { timeout: 30_000 });
  }
  const base = Date.UTC(2026, 10, 21, 12, 0, 0);
  const segment = (path: string, start: number, end: number): Segment => ({ camera: 'cam', start, end, bytes: 1, path, open: false });
  // a's pictures reach past its listed end; b starts 50 ms before a ends.
  const segments = [segment('a.mp4', base, base + 3040), segment('b.mp4', base + 2990, base + 5990)];
  const { body } = exportFrames('ffmpeg', root, segments, base, base + 5000, 2);
  const chunks: Buffer[] = [];
  for await (const chunk of body) chunks.push(chunk as Buffer);
  const names = zipEntryNames(Buffer.concat(chunks));
  t.same(names, Array.from({ length: 10 }, (_, i) => frameName(base + i * 500)), 'every half second once, in order');
});
