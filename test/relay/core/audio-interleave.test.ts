import t from 'tap';
import type { AudioUnit } from '../../../adapters/types.ts';
import { aacTrack, buildAudioSpecificConfig } from '../../../media/aac/config.ts';
import { AudioInterleaver } from '../../../relay/core/audio-interleave.ts';

const TRACK = aacTrack(buildAudioSpecificConfig({ objectType: 2, sampleRate: 48_000, channels: 1 }));
const unit = (time: number): AudioUnit => ({ track: TRACK, data: Buffer.alloc(10), pts: time, dts: time, keyframe: true });

t.test('sound waits for the first picture, then goes out up to each picture\'s time; a frame spanning it goes after', async (t) => {
  const out: number[] = [];
  const interleaver = new AudioInterleaver((audio) => out.push(audio.dts));
  for (const time of [0, 21.3, 42.7, 64, 85.3]) interleaver.audio(unit(time));
  t.same(out, [], 'nothing before the first picture, however long the encoder takes to start');
  interleaver.video(50);
  t.same(out, [0, 21.3], 'the frames that end by the picture\'s time; 42.7 spans it and waits');
  interleaver.video(100);
  t.same(out, [0, 21.3, 42.7, 64], '85.3 ends after 100: it waits for the next picture');
});

t.test('a camera whose picture stops keeps its sound: after a second without pictures sound goes out alone', async (t) => {
  const out: number[] = [];
  const interleaver = new AudioInterleaver((audio) => out.push(audio.dts));
  interleaver.video(0);
  interleaver.audio(unit(10));
  t.same(out, [], 'held while pictures come');
  await new Promise((resolve) => setTimeout(resolve, 1100));
  interleaver.audio(unit(31));
  t.same(out, [10, 31], 'no picture for a second: sound is not held');
});

t.test('held sound is bounded: past 200 frames the oldest go out', async (t) => {
  const out: number[] = [];
  const interleaver = new AudioInterleaver((audio) => out.push(audio.dts));
  for (let i = 0; i < 250; i++) interleaver.audio(unit(i * 21.3));
  t.equal(out.length, 50);
});
