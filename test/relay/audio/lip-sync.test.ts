import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { GstRtspServer } from '../../adapters/rtsp/gst-server.ts';
import { CutProxy } from '../../helpers/cut-proxy.ts';
import { fileOnsets, summarize } from '../../helpers/av-onsets.ts';
import { flashBeepLaunch, makeFlashBeepFile } from '../../helpers/flash-beep.ts';
import { captureStream } from '../../helpers/picture.ts';
import { waitFor } from '../../helpers/probe.ts';
import { startTestRelayFor } from '../../helpers/relay.ts';

/** The broadcast lip-sync tolerance the relay keeps on every output. */
const SYNC_MS = 45;

/** The FLV's flash/beep offsets, after the camera's sound has been flowing. */
async function flvOffsets(url: string, dir: string, name: string): Promise<ReturnType<typeof summarize>> {
  const file = join(dir, `${name}.flv`);
  await writeFile(file, await captureStream(url, 4500));
  return summarize(await fileOnsets(file));
}

// Guards the encoder's picture times: ffmpeg's +nobuffer dropped the first keyframe group and its shift to zero put
// every encoded picture 280 ms ahead of the camera's sound. Beside it, guards the RTSP client's sender-report mapping:
// a camera whose sound leaves 400 ms after its picture was played with the sound 400 ms late (times went by arrival).
t.test('a camera that flashes and beeps at once: the FLV flashes and beeps at once, however late its sound arrives', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'lip-sync-'));
  const source = await makeFlashBeepFile(dir, 30);
  const camera = await GstRtspServer.start({ codec: 'h264', fps: 25, launch: flashBeepLaunch(source, 'aac') });
  // The same camera behind a proxy that hands on its sound (interleaved channels 2 and 3) 400 ms after its picture.
  const slowSound = await CutProxy.start(camera.port, 0, Math.random, { fromChannel: 2, delayMs: 400 });
  const relay = await startTestRelayFor(t, `<Camera cam>\n Source ${camera.url}\n</Camera>
<Camera slow>\n Source rtsp://127.0.0.1:${slowSound.port}/cam\n RTSPTransport tcp\n</Camera>
<Stream cam.flv>\n Feed cam\n VideoFrameRate 25\n VideoSize 320x240\n VideoBitRate 400\n</Stream>
<Stream slow.flv>\n Feed slow\n VideoCodec copy\n</Stream>
<Stream stat.json>\n Format status\n</Stream>\n`, () => slowSound.close(), () => camera.stop());
  await waitFor(async () => ((await (await fetch(`${relay.baseUrl}/stat.json`)).json()) as { encoders: Array<{ kind: string; framesOut: number }> })
    .encoders.filter((part) => part.kind === 'audio' && part.framesOut > 20).length >= 2, 20_000, 'both cameras\' sound');
  // Until both tracks have a sender report the sound goes by arrival; the capture starts on a group of pictures after.
  await waitFor(() => relay.logs.filter((line) => line.includes('aligned to the picture by the camera\'s sender reports')).length >= 2, 20_000, 'sender reports');
  await new Promise((resolve) => setTimeout(resolve, 1500));
  const [encoded, slow] = await Promise.all([flvOffsets(`${relay.baseUrl}/cam.flv`, dir, 'cam'), flvOffsets(`${relay.baseUrl}/slow.flv`, dir, 'slow')]);
  for (const [name, offsets] of [['encoded', encoded], ['sound sent 400 ms late, copied', slow]] as const) {
    t.ok(offsets.pairs >= 3, `${name}: ${offsets.pairs} flashes paired with beeps (${offsets.flashes} flashes, ${offsets.beeps} beeps)`);
    t.ok(Math.abs(offsets.medianMs) <= SYNC_MS, `${name}: the beep is ${offsets.medianMs.toFixed(0)} ms from the flash (median; + = sound late)`);
    t.ok(offsets.maxAbsMs <= SYNC_MS, `${name}: at most ${offsets.maxAbsMs.toFixed(0)} ms apart`);
  }
});
