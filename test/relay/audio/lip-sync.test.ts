import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { GstRtspServer } from '../../adapters/rtsp/gst-server.ts';
import { fileOnsets, summarize } from '../../helpers/av-onsets.ts';
import { flashBeepLaunch, makeFlashBeepFile } from '../../helpers/flash-beep.ts';
import { captureStream } from '../../helpers/picture.ts';
import { waitFor } from '../../helpers/probe.ts';
import { startTestRelayFor } from '../../helpers/relay.ts';

/** The broadcast lip-sync tolerance the relay keeps on every output. */
const SYNC_MS = 45;

// Guards the encoder's picture times: ffmpeg's +nobuffer dropped the first keyframe group and its shift to zero put
// every encoded picture 280 ms ahead of the camera's sound.
t.test('a camera that flashes and beeps at once: the encoded FLV flashes and beeps at once', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'lip-sync-'));
  const source = await makeFlashBeepFile(dir, 30);
  const camera = await GstRtspServer.start({ codec: 'h264', fps: 25, launch: flashBeepLaunch(source, 'aac') });
  const relay = await startTestRelayFor(t, `<Camera cam>\n Source ${camera.url}\n</Camera>
<Stream cam.flv>\n Feed cam\n VideoFrameRate 25\n VideoSize 320x240\n VideoBitRate 400\n</Stream>
<Stream stat.json>\n Format status\n</Stream>\n`, () => camera.stop());
  await waitFor(async () => ((await (await fetch(`${relay.baseUrl}/stat.json`)).json()) as { encoders: Array<{ kind: string; framesOut: number }> })
    .encoders.some((part) => part.kind === 'audio' && part.framesOut > 20), 20_000, 'the camera\'s sound');
  const file = join(dir, 'cam.flv');
  await writeFile(file, await captureStream(`${relay.baseUrl}/cam.flv`, 4500));
  const offsets = summarize(await fileOnsets(file));
  t.ok(offsets.pairs >= 3, `${offsets.pairs} flashes paired with beeps (${offsets.flashes} flashes, ${offsets.beeps} beeps)`);
  t.ok(Math.abs(offsets.medianMs) <= SYNC_MS, `the beep is ${offsets.medianMs.toFixed(0)} ms from the flash (median; + = sound late)`);
  t.ok(offsets.maxAbsMs <= SYNC_MS, `at most ${offsets.maxAbsMs.toFixed(0)} ms apart`);
});
