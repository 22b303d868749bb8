import t from 'tap';
import { childFfmpegs, fetchBytes, waitFor } from '../../helpers/probe.ts';
import { startTestRelay } from '../../helpers/relay.ts';
import { readdir } from 'node:fs/promises';
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
