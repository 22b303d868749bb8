// Guards the archive after a crash: segments already in the bucket are not uploaded again, and those only in the bucket are found.
import { mkdir, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import t from 'tap';
import { ObjectStore } from '../../../lib/object-store.ts';
import { Archiver } from '../../../relay/recording/archiver.ts';
import { segmentRelativePath } from '../../../relay/recording/names.ts';
import { SegmentIndex, type Segment } from '../../../relay/recording/segment-index.ts';
import { waitFor } from '../../helpers/probe.ts';
import { TestS3Server } from '../../helpers/s3-server.ts';
import { keptLogger, tempDir } from '../recording/fixtures.ts';

const s3 = await TestS3Server.start('archive');
s3.addCredentials('AKIAARCHIVER', 'archiver-secret');
const { dir, cleanup } = await tempDir('relay-archiver-');
const store = new ObjectStore({ name: 'vault', endpoint: s3.endpoint, region: 'us-east-1', bucket: 'archive', pathStyle: true, tlsVerify: true, accessKey: () => 'AKIAARCHIVER', secretKey: () => 'archiver-secret' });
t.teardown(async () => {
  store.close();
  await s3.close();
  await cleanup();
});

// Recent segments: RecordLocalKeep (an hour here) keeps their local copies.
const base = Math.floor(Date.now() / 1000) * 1000 - 60_000;
const segments: Segment[] = [];
for (let i = 0; i < 3; i++) {
  const path = segmentRelativePath('cam', base + i * 2000);
  await mkdir(join(dir, path, '..'), { recursive: true });
  await writeFile(join(dir, path), Buffer.alloc(5000 + i, i));
  segments.push({ camera: 'cam', start: base + i * 2000, end: base + i * 2000 + 2000, bytes: 5000 + i, path, open: false });
}
const indexOf = (list: readonly Segment[]): SegmentIndex => {
  const index = new SegmentIndex(dir);
  for (const segment of list) index.add({ ...segment });
  return index;
};
const puts = (): number => s3.requests.filter((r) => r.method === 'PUT').length;
const cameras = new Map([['cam', { store, localKeepMs: 3_600_000, segmentMs: 2000 }]]);

t.test('closed segments are uploaded once under their own path', async (t) => {
  const index = indexOf(segments);
  const archiver = new Archiver(index, cameras, keptLogger().log);
  await archiver.start();
  await waitFor(() => {
    archiver.tick();
    return archiver.status.uploaded === 3;
  }, 15_000, 'three uploads');
  t.same((await s3.list('cam/')).map((o) => [o.key, o.size]), segments.map((s) => [s.path, s.bytes]));
  t.equal(puts(), 3);
  t.equal(archiver.status.queued, 0);
  archiver.stop();
});

t.test('after a restart the bucket is listed: nothing is sent twice, and segments only there join the index', async (t) => {
  await unlink(join(dir, segments[0]!.path));
  const index = indexOf(segments.slice(1));
  const archiver = new Archiver(index, cameras, keptLogger().log);
  await archiver.start();
  archiver.tick();
  await new Promise((resolve) => setTimeout(resolve, 300));
  archiver.tick();
  t.equal(puts(), 3, 'no upload again');
  t.equal(archiver.status.queued, 0);
  t.same(index.segments('cam').map((s) => [s.path, !!s.archived, !!s.remote]), [
    [segments[0]!.path, true, true], [segments[1]!.path, true, false], [segments[2]!.path, true, false],
  ]);
  archiver.stop();
});
