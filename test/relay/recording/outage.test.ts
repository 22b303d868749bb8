import t from 'tap';
import { fetchBytes, waitFor } from '../../helpers/probe.ts';
import { startTestRelay } from '../../helpers/relay.ts';
import { sleep, startMjpegCamera, tempDir } from './fixtures.ts';

t.test('a camera that stalls while recorded leaves a gap in the list, then recording resumes in a new segment', async (t) => {
  const camera = await startMjpegCamera(10);
  const { dir, cleanup } = await tempDir('relay-record-outage-');
  const relay = await startTestRelay(`
RecordPath ${dir}
RecordMinFreeSpace 0
<Camera cam>
  Source ${camera.url}
  Timeout 30
  Record yes
  RecordSegmentSeconds 60
</Camera>
`);
  t.teardown(async () => {
    await relay.stop();
    await camera.stop();
    await cleanup();
  });
  const list = async () => JSON.parse((await fetchBytes(`${relay.baseUrl}/record/list?camera=cam`)).body.toString()) as Array<{ start: string; duration: number }>;
  await waitFor(async () => ((await list())[0]?.duration ?? 0) >= 3, 30_000, '3 s recorded');
  camera.paused.value = true;
  await sleep(8000);
  camera.paused.value = false;
  await waitFor(async () => (await list()).length === 2 && (await list())[1]!.duration >= 2, 30_000, 'a second span after the stall');
  const [first, second] = await list();
  const gap = Date.parse(second!.start) - (Date.parse(first!.start) + first!.duration * 1000);
  t.ok(gap >= 4000, `the stall is a gap of ${gap} ms, not frozen frames`);
  t.ok(relay.logs.some((line) => /ends early: no video for 5 s/.test(line)), 'the segment ended at the stall');
  t.equal(camera.connections(), 1, 'the camera connection was kept through the stall');
});
