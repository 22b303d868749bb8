import { createHash } from 'node:crypto';
import t from 'tap';
import type { VideoUnit } from '../../../media/types.ts';
import { FlvFrameReader } from '../../../media/flv/frames.ts';
import { FlvTagReader } from '../../../media/flv/tags.ts';
import type { H264Unit } from '../../../media/types.ts';
import { GstRtspServer } from '../../adapters/rtsp/gst-server.ts';
import { openViewer, waitFor } from '../../helpers/probe.ts';
import { startTestRelayFor } from '../../helpers/relay.ts';

/** A fingerprint of an access unit's NAL units, their boundaries included. */
function fingerprint(nalus: readonly Buffer[]): string {
  const hash = createHash('sha1');
  for (const nal of nalus) hash.update(`${nal.length}:`).update(nal);
  return hash.digest('hex');
}

t.test('an RTSP camera\'s H.264 reaches an FLV viewer as the NAL unit buffers the depacketizer made, never re-split', async (t) => {
  const camera = await GstRtspServer.start({ codec: 'h264', fps: 10 });
  const relay = await startTestRelayFor(t, `<Camera cam>\n Source ${camera.url}\n</Camera>\n<Stream cam.flv>\n Feed cam\n VideoCodec copy\n</Stream>\n`, () => camera.stop());
  const feed = relay.relay.feeds.get('cam')!;
  const cameraFrames = new Map<number, VideoUnit>();
  for (const frame of feed.groupOfPictures) cameraFrames.set(frame.pts, frame);
  t.teardown(feed.subscribe((frame) => void cameraFrames.set(frame.pts, frame)));

  const viewer = await openViewer(`${relay.baseUrl}/cam.flv`);
  t.teardown(() => viewer.close());
  const passthrough = [...relay.relay.encoders.values()].find((entry) => entry.encoder.id.startsWith('cam#'))!.encoder;
  const units: H264Unit[] = [...passthrough.groupOfPictures];
  t.teardown(passthrough.subscribe((unit) => void units.push(unit)));

  const tags = new FlvTagReader();
  const reader = new FlvFrameReader();
  const received: H264Unit[] = [];
  viewer.response.on('data', (chunk: Buffer) => {
    for (const tag of tags.push(chunk)) {
      const frame = reader.read(tag);
      if (frame) received.push(frame);
    }
  });
  await waitFor(() => received.length >= 20, 20_000, '20 frames at the FLV viewer');

  const sent = new Set(units.map((unit) => fingerprint(unit.data)));
  t.ok(received.every((frame) => sent.has(fingerprint(frame.data))), 'every FLV tag carries one unit\'s NAL units, byte for byte and with their boundaries');
  const traced = units.filter((unit) => cameraFrames.has(unit.pts));
  t.ok(traced.length >= 20, `${traced.length} units traced back to the camera frame they came from`);
  for (const unit of traced) {
    const nalus = cameraFrames.get(unit.pts)!.data as readonly Buffer[];
    if (!unit.data.every((nal) => nalus.includes(nal))) {
      t.fail(`the unit at ${unit.pts} ms holds NAL units that are not the depacketizer's own buffers: it was split again`);
      return;
    }
  }
  t.pass('each unit the FLV output packaged holds the very NAL unit buffers the camera\'s frame held (no join, no split, no copy)');
  t.ok(units.every((unit) => unit.data.every((nal) => nal.subarray(0, 3).compare(Buffer.from([0, 0, 1])) !== 0)), 'no NAL unit starts with a start code');
});
