import { execFileSync } from 'node:child_process';
import t, { type Test } from 'tap';
import { fetchBytes, waitFor } from '../../helpers/probe.ts';
import { startTestRelay, type TestRelay } from '../../helpers/relay.ts';
import { sleep, smallDisk } from './fixtures.ts';

// Each test has its own small disk and relay, and waits mostly for the camera's clock to fill it: they run side by side.
t.jobs = 3;

function config(dir: string, minFree: string, extra = ''): string {
  return `
RecordPath ${dir}
RecordMinFreeSpace ${minFree}
<Camera test>
  Source testsrc://?size=320x240&rate=10
  Record yes
  RecordBitRate 3000
  RecordSegmentSeconds 2
  ${extra}
</Camera>
<Stream test.jpg>
  Feed test
</Stream>
<Stream stat.html>
  Format status
</Stream>
`;
}

interface CameraRecording { name: string; state: string; writeErrors: number; lastError: { message: string } | null; segments: number }
async function recordingOf(relay: TestRelay): Promise<{ cameras: CameraRecording[]; deletions: Record<string, { files: number }>; freeBytes: number }> {
  return (JSON.parse((await fetchBytes(`${relay.baseUrl}/stat.json`)).body.toString()) as { recording: never }).recording;
}

async function liveSnapshotWorks(t: Test, relay: TestRelay): Promise<void> {
  const first = await fetchBytes(`${relay.baseUrl}/test.jpg`);
  await sleep(300);
  const second = await fetchBytes(`${relay.baseUrl}/test.jpg`);
  t.equal(first.status, 200, 'live viewing continues');
  t.equal(second.status, 200);
  t.notSame(first.body, second.body, 'with fresh frames');
}

t.test('a full disk is an error on /stat.html and /stat.json, not a crash, and live viewing continues', async (t) => {
  const dir = await smallDisk(t, '400k');
  const relay = await startTestRelay(config(dir, '0'));
  t.teardown(() => relay.stop());
  await waitFor(async () => ((await recordingOf(relay)).cameras[0]?.writeErrors ?? 0) > 0, 30_000, 'a write error');
  const camera = (await recordingOf(relay)).cameras[0]!;
  t.match(camera.lastError?.message, /writing test\/.*failed/);
  t.ok(relay.logs.some((line) => / error .*record test: writing test\/.*failed: no space left on device \(ENOSPC\)/.test(line)), 'logged as an error');
  t.notOk(relay.logs.some((line) => /\n|    at /.test(line)), 'no stack traces');
  const page = (await fetchBytes(`${relay.baseUrl}/stat.html`)).body.toString();
  t.match(page, /writing test\/[^<]*failed/, 'the error is on the status page');
  const metrics = (await fetchBytes(`${relay.baseUrl}/metrics`)).body.toString();
  t.match(metrics, /relay_recording_write_errors_total\{camera="test"\} [1-9]/);
  await liveSnapshotWorks(t, relay);
});

t.test('RecordMinFreeSpace keeps the disk from filling: old segments go, recording goes on without errors', async (t) => {
  const dir = await smallDisk(t, '1m');
  const relay = await startTestRelay(config(dir, '700k'));
  t.teardown(() => relay.stop());
  await waitFor(async () => ((await recordingOf(relay)).deletions.freeSpace?.files ?? 0) >= 3, 40_000, 'deletions for free space');
  const status = await recordingOf(relay);
  t.equal(status.cameras[0]!.writeErrors, 0, 'no write error');
  t.ok(status.freeBytes > 0);
  t.ok(relay.logs.some((line) => /retention deleted \d+ file\(s\), \d+ bytes by free space/.test(line)), 'each pass is logged');
  await liveSnapshotWorks(t, relay);
});

t.test('a disk that turns read-only: errors while it lasts, recording resumes when it is writable again', async (t) => {
  const dir = await smallDisk(t, '20m');
  const relay = await startTestRelay(config(dir, '0'));
  t.teardown(() => relay.stop());
  await waitFor(async () => ((await recordingOf(relay)).cameras[0]?.segments ?? 0) >= 1, 20_000, 'recording');
  // A remount fails while a file is open for writing: the recorder opens its file only for each write, so one lands between two.
  await waitFor(() => {
    try {
      execFileSync('mount', ['-o', 'remount,ro', dir], { stdio: 'pipe' });
      return true;
    } catch {
      return false;
    }
  }, 10_000, 'the disk remounted read-only');
  await waitFor(async () => ((await recordingOf(relay)).cameras[0]?.writeErrors ?? 0) > 0, 30_000, 'a write error');
  t.match((await recordingOf(relay)).cameras[0]!.lastError?.message, /EROFS|Read-only|failed/);
  await liveSnapshotWorks(t, relay);
  execFileSync('mount', ['-o', 'remount,rw', dir]);
  const before = (await recordingOf(relay)).cameras[0]!.segments;
  await waitFor(async () => (await recordingOf(relay)).cameras[0]!.state === 'recording' && (await recordingOf(relay)).cameras[0]!.segments > before, 60_000, 'recording again');
  t.pass('recording resumed');
});
