import { writeFile } from 'node:fs/promises';
import t from 'tap';
import { ControllableCamera, makeJpegFrames, registryWith } from '../../helpers/controllable-camera.ts';
import { decodeLuma } from '../../helpers/picture.ts';
import { childFfmpegProcesses, waitFor } from '../../helpers/probe.ts';
import { startTestRelay } from '../../helpers/relay.ts';
import { connectedWhepClient, endWebRtc, type WhepClient } from '../../helpers/whep-client.ts';

t.teardown(endWebRtc);

const CONFIG = `
<Camera cam>
  Source ctl://cam
  Timeout 2
</Camera>
<Stream cam.flv>
  Feed cam
  VideoFrameRate 10
  VideoSize 320x240
  VideoBitRate 300
  VideoGopSize 10
</Stream>
`;

/** Waits for a keyframe after unit `from` and the 5 units from it, and decodes them: the viewer's picture is whole again. */
async function decodesAfter(client: WhepClient, from: number, timeoutMs: number): Promise<number> {
  await waitFor(() => {
    const key = client.units.findIndex((unit, index) => index >= from && unit.keyframe);
    return key >= 0 && client.units.length >= key + 5;
  }, timeoutMs, `a keyframe and 5 units after unit ${from} (${client.units.length} so far)`);
  const key = client.units.findIndex((unit, index) => index >= from && unit.keyframe);
  const units = client.units.slice(key, key + 5);
  const annexB = Buffer.concat(units.map((unit) => Buffer.concat(unit.data.flatMap((nal) => [Buffer.from([0, 0, 0, 1]), nal]))));
  return (await decodeLuma(annexB, 'h264', 320, 240)).length;
}

t.test('a WHEP viewer keeps its session and gets decodable H.264 after an encoder kill, a reload and a camera outage', async (t) => {
  const cam = new ControllableCamera(makeJpegFrames(20), 10);
  const relay = await startTestRelay(CONFIG, { adapters: registryWith({ cam }) });
  t.teardown(() => relay.stop());
  const client = await connectedWhepClient(`${relay.baseUrl}/cam.flv/whep`);
  t.equal(client.answer?.status, 201, 'the session is set up');
  await client.waitForUnits(10, 30_000);
  const session = client.sessionUrl;

  const encoders = childFfmpegProcesses(process.pid).filter((child) => /libx264/.test(child.cmdline));
  t.equal(encoders.length, 1, 'the stream\'s encoder is found');
  let started = Date.now();
  process.kill(encoders[0]!.pid, 'SIGKILL');
  // Counted from once a new encoder runs, so that a keyframe of the killed one cannot pass for recovery.
  await waitFor(() => childFfmpegProcesses(process.pid).some((child) => /libx264/.test(child.cmdline) && child.pid !== encoders[0]!.pid), 20_000, 'a new encoder');
  let mark = client.units.length;
  t.equal(await decodesAfter(client, mark, 30_000), 5, 'after the encoder is killed, a new keyframe and the frames after it decode');
  t.comment(`picture back ${Date.now() - started} ms after the kill`);

  mark = client.units.length;
  await writeFile(relay.configFile, `HTTPPort 0\n${CONFIG}<Stream extra.mjpg>\n  Feed cam\n</Stream>\n`);
  started = Date.now();
  await relay.reload();
  await client.waitForUnits(mark + 10, 15_000);
  t.equal(await decodesAfter(client, mark, 15_000), 5, 'after a reload that leaves the stream as it was, the session plays on');
  t.comment(`10 units and a decodable group ${Date.now() - started} ms after the reload`);

  cam.setMode('down');
  await new Promise((resolve) => setTimeout(resolve, 3000));
  cam.setMode('up');
  started = Date.now();
  mark = client.units.length;
  t.equal(await decodesAfter(client, mark, 30_000), 5, 'after a camera outage, the picture comes back decodable');
  t.comment(`picture back ${Date.now() - started} ms after the camera came back`);

  const stat = await (await fetch(`${relay.baseUrl}/stat.json`)).json() as { streams: Array<{ name: string; protocols: Record<string, { viewers: number }> }> };
  t.equal(stat.streams.find((stream) => stream.name === 'cam.flv')?.protocols.webrtc?.viewers, 1, 'still one WebRTC viewer');
  t.equal(client.sessionUrl, session, 'the same session throughout');
  t.equal((await fetch(session!, { method: 'DELETE' })).status, 200, 'and it is still live on the relay');
  await client.close(true);
});
