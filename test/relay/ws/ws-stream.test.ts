import { readFile, writeFile } from 'node:fs/promises';
import t from 'tap';
import { makeJpegFrames } from '../../helpers/controllable-camera.ts';
import { MjpegCamera } from '../../helpers/mjpeg-camera.ts';
import { decodeLuma, matchedPsnr, videoPackets } from '../../helpers/picture.ts';
import { waitFor } from '../../helpers/probe.ts';
import { startTestRelayFor } from '../../helpers/relay.ts';
import type { WsEdge } from '../../../relay/outputs/ws/edge.ts';
import { avcCToAnnexB, H264_HELLO, openWs, rawUnitToAnnexB, upgradeStatus } from '../../helpers/ws-client.ts';

const WIDTH = 320;
const HEIGHT = 240;
/** Luma PSNR floor of what a WebSocket viewer decodes against the camera's JPEGs (as the FLV picture test). */
const PSNR_FLOOR_DB = 30;

t.test('a stream over a WebSocket: fMP4 and raw units decode, look like the camera, start on a keyframe and are counted', async (t) => {
  const jpegs = makeJpegFrames(50, `${WIDTH}x${HEIGHT}`, 3, 'testsrc2');
  const camera = await MjpegCamera.start({ frames: jpegs, rate: 25 });
  const relay = await startTestRelayFor(t, `
<Camera door>
  Source ${camera.url}
</Camera>
<Stream door.flv>
  Feed door
  VideoFrameRate 25
  VideoBitRate 800
</Stream>
<Stream off.flv>
  Feed door
  WebSocket no
</Stream>
<Stream stat.html>
  Format status
</Stream>
`, () => camera.close());
  const ws = `${relay.baseUrl.replace('http', 'ws')}`;
  const sources = await decodeLuma(Buffer.concat(jpegs), 'mjpeg', WIDTH, HEIGHT);
  const fmp4 = await openWs(`${ws}/door.flv.ws`, { version: 1, mode: 'fmp4', codecs: ['avc1.64001f', 'mp4a.40.2'] });
  const raw = await openWs(`${ws}/door.flv.ws`, { version: 1, mode: 'raw', codecs: ['avc1'] });
  await waitFor(() => fmp4.binaries.length >= 60 && raw.binaries.length >= 60, 20_000, '60 frames on each');

  const stat = (await (await fetch(`${relay.baseUrl}/stat.json`)).json()) as { streams: Array<{ name: string; viewerList: Array<{ protocol: string }>; protocols: Record<string, { viewers: number; fmp4: number; raw: number }> }> };
  const door = stat.streams.find((stream) => stream.name === 'door.flv')!;
  t.same(door.viewerList.map((viewer) => viewer.protocol), ['ws', 'ws'], 'both listed as ws viewers');
  t.match(door.protocols.ws, { viewers: 2, fmp4: 1, raw: 1 });
  fmp4.socket.close();
  raw.socket.close();

  for (const capture of [fmp4, raw]) {
    t.match(capture.texts[0], { type: 'hello', version: 1 }, 'hello answered first');
    t.match(capture.texts[1], { type: 'config', width: WIDTH, height: HEIGHT, codec: /^avc1\./, mime: /^video\/mp4; codecs="avc1\./ });
  }
  // fMP4: the init segment, then one moof+mdat per frame, which ffprobe reads as a file.
  const mp4 = Buffer.concat(fmp4.binaries);
  t.equal(fmp4.binaries[0]!.subarray(4, 8).toString('latin1'), 'ftyp', 'init segment first');
  t.equal(fmp4.binaries[1]!.subarray(4, 8).toString('latin1'), 'moof', 'then fragments');
  const boxes = fmp4.binaries.map((message) => message.subarray(4, 8).toString('latin1'));
  t.ok(boxes.every((type) => type === 'ftyp' || type === 'moof'), 'every message is an init segment or a fragment');
  const packets = await videoPackets(mp4, 'mp4');
  t.equal(packets.length, boxes.filter((type) => type === 'moof').length, 'one frame per fragment');
  const mp4Psnr = matchedPsnr(await decodeLuma(mp4, 'mov', WIDTH, HEIGHT), sources, WIDTH);
  const mp4Mean = mp4Psnr.reduce((sum, value) => sum + value, 0) / mp4Psnr.length;
  t.ok(mp4Psnr.length >= 50 && mp4Mean >= PSNR_FLOOR_DB, `fMP4: ${mp4Psnr.length} frames, mean luma PSNR ${mp4Mean.toFixed(1)} dB (floor ${PSNR_FLOOR_DB})`);

  // Raw: a 12-byte header (kind, flags, codec, reserved, microseconds) and the unit as AVCC, which the avcC decodes.
  const first = raw.binaries[0]!;
  t.same([first[0], first[1], first[2]], [1, 1, 1], 'video, keyframe, H.264 AVCC');
  const times = raw.binaries.map((message) => Number(message.readBigUInt64BE(4)));
  // VideoFrameRate 25 puts every frame on a 40 ms grid (the camera's late frames are dropped, never moved).
  t.ok(times.every((time) => Math.abs(((time - times[0]!) / 40_000) - Math.round((time - times[0]!) / 40_000)) < 0.05), 'microsecond times on the 25 fps grid');
  // The raw viewer's hello can come after the encoder's first frames: its kept group must not be cut to time 0.
  t.equal(new Set(times).size, times.length, `one time per frame: ${times.slice(0, 8).join(' ')} ...`);
  const annexB = Buffer.concat([avcCToAnnexB(raw.texts[1]!.description as string), ...raw.binaries.map(rawUnitToAnnexB)]);
  const rawPsnr = matchedPsnr(await decodeLuma(annexB, 'h264', WIDTH, HEIGHT), sources, WIDTH);
  const rawMean = rawPsnr.reduce((sum, value) => sum + value, 0) / rawPsnr.length;
  t.ok(rawPsnr.length === raw.binaries.length && rawMean >= PSNR_FLOOR_DB, `raw: ${rawPsnr.length} of ${raw.binaries.length} units decoded, mean luma PSNR ${rawMean.toFixed(1)} dB`);

  // A stream with WebSocket no, a missing stream, and a plain GET of the endpoint.
  t.equal(await upgradeStatus(`${ws}/off.flv.ws`), 404, 'WebSocket no: not served');
  t.equal(await upgradeStatus(`${ws}/nothing.ws`), 404, 'no such stream');
  const plain = await fetch(`${relay.baseUrl}/door.flv.ws`);
  t.equal(plain.status, 426, 'a plain GET is told to upgrade');
  await waitFor(async () => {
    const after = (await (await fetch(`${relay.baseUrl}/stat.json`)).json()) as typeof stat;
    return after.streams.find((stream) => stream.name === 'door.flv')!.protocols.ws!.viewers === 0;
  }, 5000, 'viewers gone once closed');

  // Guards: a late unmount of a replaced output ended the WebSocket viewers of the output that took its name on reload.
  const edge = relay.relay.protocolServer('ws') as WsEdge;
  const replaced = edge.mount(relay.relay.outputs.get('door.flv')!)!;
  await writeFile(relay.configFile, (await readFile(relay.configFile, 'utf8')).replace('VideoBitRate 800', 'VideoBitRate 700'));
  const watching = await openWs(`${ws}/door.flv.ws`, H264_HELLO);
  await waitFor(() => watching.binaries.length >= 5, 20_000, 'frames before the reload');
  await relay.reload();
  t.not(relay.relay.outputs.get('door.flv'), undefined, 'door.flv served again after the reload');
  await waitFor(() => watching.closed !== undefined, 5000, 'the replaced stream\'s viewer ended by the reload');
  const after = await openWs(`${ws}/door.flv.ws`, H264_HELLO);
  await waitFor(() => after.binaries.length >= 5, 20_000, 'frames on the reloaded stream');
  replaced.unmount();
  const before = after.binaries.length;
  await waitFor(() => after.binaries.length >= before + 10 || after.closed !== undefined, 10_000, 'frames or a close');
  t.equal(after.closed, undefined, 'the new stream\'s viewer is not ended by the old output\'s unmount');
  t.ok(after.binaries.length >= before + 10, 'and keeps getting frames');
  after.socket.close();
});
