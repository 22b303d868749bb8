// Guards against HLS segments of 4/4/2 s with HLSSegmentTime 2 (TARGETDURATION 4): keyframes a few ms early were not cut at.
import t from 'tap';
import { makeJpegFrames } from '../../helpers/controllable-camera.ts';
import { MjpegCamera } from '../../helpers/mjpeg-camera.ts';
import { videoPackets } from '../../helpers/picture.ts';
import { fetchBytes, waitFor } from '../../helpers/probe.ts';
import { startTestRelay } from '../../helpers/relay.ts';

/** One frame of the 25 fps camera plus its jitter: a keyframe lands on the first frame at or past each boundary. */
const TOLERANCE_SECONDS = 0.045;
/** A "25 fps" camera whose clock runs 1% fast: 50.5 frames per 2 s, so every other forced keyframe comes half a frame early. */
const CAMERA_RATE = 25.25;

t.test('HLSSegmentTime 2 on an HTTP MJPEG camera: segments of 2 s within a frame, TARGETDURATION 2, each opening on a keyframe', async (t) => {
  const camera = await MjpegCamera.start({ frames: makeJpegFrames(25, '320x240', 8, 'testsrc2'), rate: CAMERA_RATE, jitterMs: 4 });
  t.teardown(() => camera.close());
  const relay = await startTestRelay(`
<Camera gate>
  Source ${camera.url}
</Camera>
<Stream gate.m3u8>
  Feed gate
  VideoBitRate 300
  HLSSegmentTime 2
  HLSListSize 6
</Stream>
`);
  t.teardown(() => relay.stop());
  const playlist = async (): Promise<string> => (await fetchBytes(`${relay.baseUrl}/gate.m3u8`)).body.toString();
  const segmentCount = (text: string): number => text.split('\n').filter((line) => line.startsWith('#EXTINF')).length;
  await waitFor(async () => segmentCount(await playlist()) >= 3, 20_000, 'three segments');
  const text = await playlist();
  t.match(text, /#EXT-X-TARGETDURATION:2\n/, 'TARGETDURATION 2');
  const durations = [...text.matchAll(/#EXTINF:([\d.]+),\n(\S+)/g)].map((match) => ({ seconds: Number(match[1]), uri: match[2]! }));
  // The first segment starts wherever the stream did; the ones after it are cut at forced keyframes.
  for (const { seconds, uri } of durations.slice(1)) {
    t.ok(Math.abs(seconds - 2) <= TOLERANCE_SECONDS, `segment of ${seconds} s`);
    const packets = await videoPackets((await fetchBytes(new URL(uri, `${relay.baseUrl}/gate.m3u8`).toString())).body, 'ts');
    t.ok(packets[0]?.keyframe, 'opens on a keyframe');
  }
});
