// Guards the synthetic camera stamping frames on arrival: a stalled event loop became a gap and a burst in every output.
import t from 'tap';
import { TestsrcAdapter } from '../../../adapters/testsrc/testsrc.ts';
import type { VideoUnit } from '../../../media/types.ts';
import { makeCameraConfig } from '../../helpers/camera-config.ts';

t.test('frames carry the pattern\'s own clock, 1/rate apart, even when they are read late and in a burst', async (t) => {
  const adapter = new TestsrcAdapter(makeCameraConfig('testsrc://?size=64x48&rate=25'), 'ffmpeg');
  const controller = new AbortController();
  const frames: VideoUnit[] = [];
  let stalled = false;
  const enough = new Promise<void>((resolve) => {
    void adapter.run({
      signal: controller.signal,
      onConnected: () => {},
      onWaiting: () => {},
      log: () => {},
      onFrame: (frame) => {
        frames.push(frame);
        if (frames.length === 3 && !stalled) {
          // Hold the event loop as a loaded relay does: ffmpeg's frames pile up in the pipe meanwhile.
          stalled = true;
          const until = performance.now() + 600;
          while (performance.now() < until);
        }
        if (frames.length >= 30) resolve();
      },
    }).catch(() => {});
  });
  await enough;
  controller.abort();
  const intervals = frames.slice(1).map((frame, i) => frame.pts - frames[i]!.pts);
  const uneven = intervals.filter((ms) => Math.abs(ms - 40) > 0.5);
  t.same(uneven.map((ms) => ms.toFixed(1)), [], `every interval is 40 ms: ${intervals.map((ms) => ms.toFixed(0)).join(' ')}`);
});
