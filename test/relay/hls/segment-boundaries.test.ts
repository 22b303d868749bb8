// Guards against a 3.92 s HLS segment (TARGETDURATION 4) after a forced keyframe came two frames late: the next one was cut at.
import t from 'tap';
import { HlsPackager } from '../../../relay/hls/packager.ts';
import type { H264Unit } from '../../../media/types.ts';
import { targetDuration } from '../../../relay/hls/playlist.ts';
import { startTestEncodedSource } from '../../helpers/encoded-source.ts';

/** A real keyframe and a real P-frame of one track, for building a stream with chosen times. */
async function sampleFrames(): Promise<{ key: H264Unit; delta: H264Unit }> {
  const source = startTestEncodedSource({ size: '160x120', rate: 25, gop: 25 });
  try {
    return await new Promise((resolve) => {
      let key: H264Unit | undefined;
      source.hub.subscribe((frame) => {
        if (frame.keyframe) key ??= frame;
        else if (key) resolve({ key, delta: frame });
      });
    });
  } finally {
    source.stop();
  }
}

t.test('segments follow the encoder\'s keyframe grid: a late keyframe shortens the next segment, never doubles it', async (t) => {
  const { key, delta } = await sampleFrames();
  for (const container of ['ts', 'fmp4'] as const) {
    const packager = new HlsPackager({ container, segmentSeconds: 2, listSize: 6, partSeconds: 0.5 }, 'cam/');
    // 25 fps; keyframes forced at the first frame at or past each 2 s, the one at 2 s two frames late (dropped frames).
    const keyframeAt = new Set([0, 52, 100, 150, 200, 250]);
    for (let index = 0; index <= 251; index++) {
      const sample = keyframeAt.has(index) ? key : delta;
      packager.push({ ...sample, pts: 1000 + index * 40, dts: 1000 + index * 40 });
    }
    t.same(packager.segments.map((segment) => Number(segment.duration.toFixed(3))), [2.08, 1.92, 2, 2, 2], `${container}: segment durations`);
    t.equal(targetDuration(packager), 2, `${container}: TARGETDURATION 2`);
  }
});
