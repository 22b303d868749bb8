// Guards: recording losses went unreported (a recorder that lost 2 s still said `recording`, nothing counted the lost
// time), and segment files deleted outside the relay stayed listed while /record/get answered 200 with 0 bytes.
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import t from 'tap';
import { CameraRecorder } from '../../../relay/recording/recorder.ts';
import { segmentRelativePath } from '../../../relay/recording/names.ts';
import { SegmentIndex } from '../../../relay/recording/segment-index.ts';
import { fetchBytes, waitFor } from '../../helpers/probe.ts';
import { startTestRelay } from '../../helpers/relay.ts';
import { gatedSource, keptLogger, sleep, tempDir } from './fixtures.ts';

t.test('a stall shows as `stalled` while it lasts and its time is counted as lost', async (t) => {
  const { dir, cleanup } = await tempDir('relay-rec-loss-');
  const { hub, source, gate } = gatedSource({ rate: 10, gop: 10 });
  const index = new SegmentIndex(dir);
  const { log, lines } = keptLogger();
  const recorder = new CameraRecorder({ camera: 'cam', segmentSeconds: 30, source: hub, index, log });
  recorder.start();
  t.teardown(async () => {
    await recorder.stop();
    source.stop();
    await cleanup();
  });
  await waitFor(() => recorder.status.state === 'recording' && (index.segments('cam')[0]?.end ?? 0) - (index.segments('cam')[0]?.start ?? 0) > 1000, 15_000, '1 s recorded');
  t.equal(recorder.status.lostSeconds, 0, 'nothing lost while frames flow');
  gate.paused = true;
  await sleep(2600);
  t.equal(recorder.status.state, 'stalled', 'a recorder without frames for 2.6 s says so');
  t.equal(recorder.status.stalls, 1);
  gate.paused = false;
  await waitFor(() => recorder.status.state === 'recording', 5000, 'recording again');
  const lost = recorder.status.lostSeconds;
  t.ok(lost >= 2 && lost <= 3.5, `${lost} s counted as lost for a 2.6 s stall`);
  t.ok(lines.some((line) => /s without video in the recording/.test(line)), 'and logged');
});

t.test('a segment file deleted outside the relay leaves the list, and /record/get for its time is NO_RECORDING', async (t) => {
  const { dir, cleanup } = await tempDir('relay-rec-vanish-');
  const relay = await startTestRelay(`RecordPath ${dir}
RecordMinFreeSpace 0
<Camera cam>
  Source testsrc://?size=160x120&rate=10
  Record yes
  RecordSegmentSeconds 2
</Camera>
`);
  t.teardown(async () => {
    await relay.stop();
    await cleanup();
  });
  const list = async () => JSON.parse((await fetchBytes(`${relay.baseUrl}/record/list?camera=cam`)).body.toString()) as Array<{ start: string; duration: number }>;
  await waitFor(async () => ((await list())[0]?.duration ?? 0) >= 3, 30_000, '3 s recorded');
  const first = (await list())[0]!;
  // The oldest segment's file, as the relay named it: its start is the span's start.
  await rm(join(dir, segmentRelativePath('cam', Date.parse(first.start))));
  await sleep(2100); // a listed file is looked for again after 2 s
  const after = (await list())[0]!;
  t.ok(Date.parse(after.start) > Date.parse(first.start), `the list now starts at ${after.start}, after the deleted file's ${first.start}`);
  const gone = ((Date.parse(after.start) - Date.parse(first.start)) / 1000).toFixed(3);
  const get = await fetchBytes(`${relay.baseUrl}/record/get?camera=cam&start=${first.start}&duration=${gone}`);
  t.equal(get.status, 404, 'nothing to export');
  t.match(JSON.parse(get.body.toString()), { code: 'NO_RECORDING' });
  t.ok(relay.logs.some((line) => /1 segment file\(s\) deleted outside the relay/.test(line)), 'the loss is logged');
});
