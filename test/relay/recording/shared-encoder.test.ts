import t from 'tap';
import { childFfmpegs, fetchBytes, waitFor } from '../../helpers/probe.ts';
import { startTestRelay } from '../../helpers/relay.ts';
import { readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { probeFile, sleep, tempDir } from './fixtures.ts';

t.test('a recorder at a live stream\'s settings shares its encoder; other settings get their own', async (t) => {
  const { dir, cleanup } = await tempDir('relay-record-shared-');
  const relay = await startTestRelay(`
RecordPath ${dir}
RecordMinFreeSpace 0
<Camera same>
  Source testsrc://?size=320x240&rate=10
  Record yes
  RecordSize 320x240
  RecordFrameRate 10
  RecordBitRate 300
</Camera>
<Camera own>
  Source testsrc://?size=320x240&rate=10
  Record yes
  RecordSize 160x120
  RecordFrameRate 5
</Camera>
<Stream same.flv>
  Feed same
  VideoSize 320x240
  VideoFrameRate 10
  VideoBitRate 300
</Stream>
`);
  t.teardown(async () => {
    await relay.stop();
    await cleanup();
  });
  await waitFor(async () => {
    const { recording } = JSON.parse((await fetchBytes(`${relay.baseUrl}/stat.json`)).body.toString()) as { recording: { cameras: Array<{ state: string }> } };
    return recording.cameras.every((camera) => camera.state === 'recording');
  }, 30_000, 'both cameras recording');
  const { encoders } = JSON.parse((await fetchBytes(`${relay.baseUrl}/stat.json`)).body.toString()) as { encoders: Array<{ camera: string; streams: string[] }> };
  t.same(encoders.filter((encoder) => encoder.camera === 'same').map((encoder) => encoder.streams), [['record:same', 'same.flv']], 'one encoder for the stream and the recorder');
  t.same(encoders.filter((encoder) => encoder.camera === 'own').map((encoder) => encoder.streams), [['record:own']]);
  const encoding = childFfmpegs().filter((cmdline) => /libx264/.test(cmdline));
  t.equal(encoding.length, 2, `two encoding ffmpegs for two settings: ${encoding.join(' | ')}`);
  await sleep(3000);
  const day = (await readdir(join(dir, 'own')))[0]!;
  const [file] = await readdir(join(dir, 'own', day));
  const probed = await probeFile(join(dir, 'own', day, file!));
  t.same([probed.width, probed.height, probed.frameRate], [160, 120, '5/1'], 'the synthetic camera is recorded at RecordSize and RecordFrameRate');
  t.ok(probed.frames >= 10, `${probed.frames} frames so far`);
});

t.test('a reload goes on with the open segments of cameras it leaves alone, and restarts the recorder of a changed one', async (t) => {
  // Guards against every reload starting a new segment for every recorded camera.
  const { dir, cleanup } = await tempDir('relay-record-reload-');
  const camera = (name: string, rate: number) => `<Camera ${name}>
  Source testsrc://?size=160x120&rate=10
  Record yes
  RecordFrameRate ${rate}
  RecordSegmentSeconds 60
</Camera>
`;
  const config = (streams: string, changedRate: number) => `RecordPath ${dir}\nRecordMinFreeSpace 0\n${camera('kept', 10)}${camera('changed', changedRate)}${streams}`;
  const relay = await startTestRelay(config('<Stream kept.flv>\n  Feed kept\n</Stream>\n', 10));
  t.teardown(async () => {
    await relay.stop();
    await cleanup();
  });
  type Recorded = Array<{ name: string; state: string; currentSegment: string | null; segmentsWritten: number }>;
  const recorded = async (): Promise<Recorded> =>
    (JSON.parse((await fetchBytes(`${relay.baseUrl}/stat.json`)).body.toString()) as { recording: { cameras: Recorded } }).recording.cameras;
  await waitFor(async () => (await recorded()).every((entry) => entry.state === 'recording' && entry.currentSegment), 30_000, 'both cameras recording');
  const before = await recorded();
  await sleep(1500);
  await writeFile(relay.configFile, `HTTPPort 0\n${config('<Stream other.flv>\n  Feed kept\n</Stream>\n', 5)}`);
  await relay.reload();
  await waitFor(async () => (await recorded()).every((entry) => entry.state === 'recording' && entry.currentSegment), 30_000, 'both recording after the reload');
  await sleep(1500);
  const after = await recorded();
  const segment = (list: Recorded, name: string) => list.find((entry) => entry.name === name)?.currentSegment;
  t.equal(segment(after, 'kept'), segment(before, 'kept'), 'the unchanged camera goes on writing the same segment');
  t.not(segment(after, 'changed'), segment(before, 'changed'), 'the changed camera starts a new one');
  await relay.stop();
  const probed = await probeFile(join(dir, segment(after, 'kept')!));
  t.ok(probed.frames >= 25, `the carried segment plays across the reload: ${probed.frames} frames`);
});
