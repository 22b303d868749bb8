// Guards RecordArchive: closed segments go to the bucket, local copies are pruned after RecordLocalKeep, /record/ still serves them.
import { readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import t from 'tap';
import { fetchBytes, waitFor } from '../../helpers/probe.ts';
import { startTestRelayFor } from '../../helpers/relay.ts';
import { TestS3Server } from '../../helpers/s3-server.ts';
import { probeFile, tempDir } from '../recording/fixtures.ts';

const ACCESS = 'AKIAARCHIVETEST01';
const SECRET = 'archive-secret-7d1e5a';
const s3 = await TestS3Server.start('archive');
s3.addCredentials(ACCESS, SECRET);
const { dir, cleanup } = await tempDir('relay-archive-');
// The bucket refuses the first uploads: the archive retries them with backoff and loses nothing.
s3.fault({ kind: 'status', status: 503, count: 6, method: 'PUT' });
const relay = await startTestRelayFor(t, `
RecordPath ${dir}
RecordMinFreeSpace 0
RecordArchive vault
RecordLocalKeep 0
<Storage vault>
  Endpoint ${s3.endpoint}
  Bucket archive
  AccessKey ${ACCESS}
  SecretKey ${SECRET}
</Storage>
<Camera cam>
  Source testsrc://?size=160x120&rate=5
  Record yes
  RecordSegmentSeconds 2
  RecordFrameRate 5
  RecordSize 160x120
</Camera>
<Stream stat.html>
  Format status
</Stream>
`, () => s3.close(), cleanup);

interface Archive { uploaded: number; localDeleted: number; failures: number; queued: number; state: string }
const archive = async (): Promise<Archive> => ((await (await fetch(`${relay.baseUrl}/stat.json`)).json()) as { recording: { archive: Archive } }).recording.archive;
const localFiles = async (): Promise<string[]> => {
  const days = await readdir(join(dir, 'cam')).catch(() => [] as string[]);
  return (await Promise.all(days.map(async (day) => (await readdir(join(dir, 'cam', day))).map((file) => `cam/${day}/${file}`)))).flat();
};

t.test('segments appear in the bucket after retries, and their local copies are deleted', async (t) => {
  // The archive counts an upload once its HEAD check is answered, just after the object shows in the bucket.
  await waitFor(async () => (await s3.list('cam/')).length >= 3 && (await archive()).uploaded >= 3, 40_000, 'three segments in the bucket, counted');
  const status = await archive();
  t.ok(status.failures >= 1, `the refused uploads were counted (${status.failures})`);
  t.ok(status.uploaded >= 3, `${status.uploaded} uploaded`);
  const metrics = await (await fetch(`${relay.baseUrl}/metrics`)).text();
  t.ok(Number(/^relay_recording_archive_uploaded_segments_total (\d+)$/m.exec(metrics)?.[1]) >= 3, '/metrics counts the uploaded segments');
  t.match(metrics, /^relay_recording_archive_failures_total [1-9]\d*$/m, '/metrics counts the refused uploads');
  t.match(metrics, /^relay_storage_written_bytes_total\{storage="[^"]+",bucket="[^"]+"\} [1-9]\d*$/m, '/metrics: bytes written to the bucket');
  await waitFor(async () => (await archive()).localDeleted >= 2, 10_000, 'local copies pruned');
  const objects = await s3.list('cam/');
  const local = await localFiles();
  const prunedKeys = objects.map((o) => o.key).filter((key) => !local.includes(key));
  t.ok(prunedKeys.length >= 2, `${prunedKeys.length} segment(s) only in the bucket now`);
  for (const object of objects) t.ok(object.size > 1000, `${object.key}: ${object.size} bytes`);
});

t.test('/record/list and /record/get find archived segments; /record/get of them is a playable MP4', async (t) => {
  const spans = (await (await fetch(`${relay.baseUrl}/record/list?camera=cam`)).json()) as Array<{ start: string; duration: number }>;
  t.ok(spans.length >= 1 && spans[0]!.duration >= 4, `spans ${JSON.stringify(spans)}`);
  const objects = await s3.list('cam/');
  const local = await localFiles();
  const remoteOnly = objects.filter((o) => !local.includes(o.key));
  const first = remoteOnly[0]!.key.split('/');
  const start = `${first[1]}T${first[2]!.slice(0, 8).replaceAll('-', ':')}.${first[2]!.slice(9, 12)}Z`;
  const response = await fetchBytes(`${relay.baseUrl}/record/get?camera=cam&start=${encodeURIComponent(start)}&duration=3`);
  t.equal(response.status, 200, `status ${response.status}: ${response.status === 200 ? '' : response.body.toString().slice(0, 200)}`);
  const file = join(dir, 'archived.mp4');
  await writeFile(file, response.body);
  const probed = await probeFile(file);
  t.same([probed.width, probed.height], [160, 120]);
  t.ok(probed.duration >= 1.5, `${probed.duration} s decoded from archived segments`);
});

t.test('the archive shows on /stat.html; the keys appear nowhere: not in /stat.json, /stat.html or the log', async (t) => {
  const page = await (await fetch(`${relay.baseUrl}/stat.html`)).text();
  t.match(page, /<th>Archive<\/th>/, 'the archive line under Recording');
  // Guards the archive's error code (AUTH, CONNECT, ...) being on /stat.json only: the page showed just the message.
  const { lastError } = ((await (await fetch(`${relay.baseUrl}/stat.json`)).json()) as { recording: { archive: { lastError: { code: string } | null } } }).recording.archive;
  t.ok(lastError, 'the refused uploads left their error');
  const row = /<tr data-key="archive">[\s\S]*?<\/tr>/.exec(page)?.[0] ?? '';
  t.ok(row.includes(`<strong data-f="lastError.code" data-fmt="note">${lastError?.code}</strong>`), `the archive line shows the code ${lastError?.code}`);
  for (const text of [page, await (await fetch(`${relay.baseUrl}/stat.json`)).text()]) {
    t.notMatch(text, SECRET);
    t.notMatch(text, ACCESS);
  }
  t.notOk(relay.logs.some((line) => line.includes(SECRET) || line.includes(ACCESS)), 'the log');
});
