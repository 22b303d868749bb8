import t from 'tap';
import { TestsrcAdapter, parseTestsrcUrl } from '../../../adapters/testsrc/testsrc.ts';
import type { AudioUnit } from '../../../adapters/types.ts';
import type { VideoUnit } from '../../../media/types.ts';
import { makeCameraConfig } from '../../helpers/camera-config.ts';

t.test('audio=aac: AAC frames 1024 samples apart, on the picture\'s clock', async (t) => {
  const adapter = new TestsrcAdapter(makeCameraConfig('testsrc://?size=64x48&rate=25&audio=aac'), 'ffmpeg');
  const controller = new AbortController();
  const frames: VideoUnit[] = [];
  const audio: AudioUnit[] = [];
  const ran = adapter.run({
    signal: controller.signal,
    onConnected: () => {},
    onWaiting: () => {},
    log: () => {},
    onFrame: (frame) => frames.push(frame),
    onAudio: (unit) => audio.push(unit),
  });
  const deadline = Date.now() + 10_000;
  while (audio.length < 60 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
  controller.abort();
  await ran;
  t.ok(audio.length >= 60, `${audio.length} audio frames`);
  const track = audio[0]!.track;
  t.match(track, { kind: 'audio', codec: 'aac', sampleRate: 48_000, channels: 1 });
  const steps = audio.slice(1).map((unit, i) => unit.pts - audio[i]!.pts);
  t.same(steps.filter((ms) => Math.abs(ms - 1024 / 48) > 0.01), [], 'each frame 21.33 ms after the last');
  // Both processes start together: their first times are on one clock, within a few frames of each other.
  t.ok(Math.abs(audio[0]!.pts - frames[0]!.pts) < 200, `audio starts ${(audio[0]!.pts - frames[0]!.pts).toFixed(0)} ms from the picture`);
});

t.test('audio: none by default, a bad value names the parameter', async (t) => {
  t.equal(parseTestsrcUrl('testsrc://').audio, 'none');
  t.throws(() => parseTestsrcUrl('testsrc://?audio=mp3'), /testsrc audio must be aac or none/);
});
