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

/** One closed segment of `bytes` for `camera`, on disk and in a fresh index. */
async function oneSegment(camera: string, bytes: number): Promise<{ index: SegmentIndex; segment: Segment }> {
  const path = segmentRelativePath(camera, base);
  await mkdir(join(dir, path, '..'), { recursive: true });
  await writeFile(join(dir, path), Buffer.alloc(bytes, 7));
  const segment: Segment = { camera, start: base, end: base + 2000, bytes, path, open: false };
  return { index: indexOf([segment]), segment };
}

t.test('credentials that expire mid-way through a multipart upload: a clear failure, a retry, one object in the end', async (t) => {
  // Guards against a multipart upload refused between parts (ExpiredToken) reported as the failed abort of its parts (MethodNotAllowed).
  const { index, segment } = await oneSegment('expiring', 17 * 1024 * 1024);
  const kept = keptLogger();
  const archiver = new Archiver(index, new Map([['expiring', { store, localKeepMs: 3_600_000, segmentMs: 2000 }]]), kept.log);
  await archiver.start();
  // Parts 2 and 3 refused, part 1 accepted: the credentials run out between the parts of one upload.
  s3.fault({ kind: 'denied', code: 'ExpiredToken', count: Infinity, method: 'PUT', url: 'partNumber=2' });
  s3.fault({ kind: 'denied', code: 'InvalidAccessKeyId', count: Infinity, method: 'PUT', url: 'partNumber=3' });
  archiver.tick();
  await waitFor(() => archiver.status.failures > 0, 15_000, 'the refused upload');
  t.match(archiver.status.lastError?.message, /^cannot archive expiring\/.*: storage vault: the bucket refused the credentials \((ExpiredToken|InvalidAccessKeyId)\): check AccessKey and the secret key$/);
  t.equal(archiver.status.lastError?.code, 'AUTH', 'refused credentials read AUTH');
  t.equal(archiver.status.state, 'failing');
  t.ok(kept.lines.some((line) => /the bucket refused the credentials/.test(line) && /retrying with backoff/.test(line)), 'the failure is logged once, clearly');
  t.ok(s3.requests.some((r) => r.method === 'PUT' && r.url.includes('partNumber=1') && r.status === 200), 'the first part was accepted before the refusals');
  // Still refused: a retry (past its backoff) fails again, nothing lands in the bucket.
  const failures = archiver.status.failures;
  await waitFor(() => {
    archiver.tick(Date.now() + 120_000);
    return archiver.status.failures > failures;
  }, 15_000, 'a second refused attempt');
  t.same(await s3.list('expiring/'), [], 'no object while the credentials are refused');
  s3.clearFaults();
  await waitFor(() => {
    archiver.tick(Date.now() + 120_000);
    return archiver.status.uploaded === 1;
  }, 20_000, 'the upload once the credentials are accepted again');
  t.same((await s3.list('expiring/')).map((o) => [o.key, o.size]), [[segment.path, segment.bytes]], 'one object, whole');
  t.equal(s3.requests.filter((r) => r.method === 'POST' && r.url.includes('uploadId=') && r.status === 200).length, 1, 'one completed multipart upload');
  t.equal(archiver.status.state, 'ready');
  t.ok(kept.lines.some((line) => /archive uploads work again/.test(line)));
  archiver.stop();
});

t.test('a bucket answering garbage to the listing at start: a clear error, no upload until it lists, then the upload', async (t) => {
  // Guards the archive start against a listing answered with a body that is not S3 XML.
  const { index, segment } = await oneSegment('garbled', 4000);
  const archiver = new Archiver(index, new Map([['garbled', { store, localKeepMs: 3_600_000, segmentMs: 2000 }]]), keptLogger().log);
  s3.fault({ kind: 'garbage', status: 200, count: Infinity, method: 'GET', url: 'list-type=2' });
  await archiver.start();
  t.equal(archiver.status.state, 'failing');
  t.match(archiver.status.lastError?.message, /^cannot list the archive of garbled: storage vault: the server's answer is not S3 XML/);
  const putsBefore = puts();
  archiver.tick(Date.now() + 120_000);
  await new Promise((resolve) => setTimeout(resolve, 300));
  t.equal(puts(), putsBefore, 'nothing uploaded before the bucket could be listed');
  s3.clearFaults();
  await waitFor(() => {
    archiver.tick(Date.now() + 120_000);
    return archiver.status.uploaded === 1;
  }, 15_000, 'the upload once the listing works');
  t.same((await s3.list('garbled/')).map((o) => [o.key, o.size]), [[segment.path, segment.bytes]]);
  archiver.stop();
});

t.test('a wrong secret key: the listing fails as AUTH and is tried again with backoff, not at every tick', async (t) => {
  // Guards the archive against refused credentials read as an outage (CONNECT) and its listing retried at every tick.
  const wrong = new ObjectStore({ ...store.options, name: 'wrongkey', secretKey: () => 'not-the-archiver-secret' });
  t.teardown(() => wrong.close());
  const { index } = await oneSegment('refused', 4000);
  const archiver = new Archiver(index, new Map([['refused', { store: wrong, localKeepMs: 3_600_000, segmentMs: 2000 }]]), keptLogger().log);
  await archiver.start();
  t.match(archiver.status, { state: 'failing', lastError: { code: 'AUTH', message: /^cannot list the archive of refused: storage wrongkey: the bucket refused the credentials \(SignatureDoesNotMatch\): check AccessKey and the secret key$/ } });
  const listings = (): number => s3.requests.filter((r) => r.url.includes('list-type=2') && r.url.includes('refused')).length;
  const before = listings();
  // Ticks as the recorder runs them, for 1.5 s: the first retry of refused credentials waits past the fast phase (about 2 s).
  for (let i = 0; i < 15; i++) {
    archiver.tick();
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  t.equal(listings(), before, 'no listing again within 1.5 s');
  await waitFor(async () => {
    archiver.tick(Date.now() + 120_000);
    return listings() > before;
  }, 15_000, 'the listing tried again once its backoff has passed');
  archiver.stop();
});
