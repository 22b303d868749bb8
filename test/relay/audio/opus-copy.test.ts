import PQueue from 'p-queue';
import t from 'tap';
import type { AudioUnit } from '../../../adapters/types.ts';
import { createLogger } from '../../../lib/log.ts';
import { ProcessSlots } from '../../../lib/process-slots.ts';
import { aacTrack } from '../../../media/aac/config.ts';
import { OpusAudio } from '../../../relay/encoders/opus-audio.ts';
import { makeOpusUnits } from '../../helpers/audio.ts';

// Guards: a camera's own Opus went to WebRTC through AAC and back (two conversions, one ffmpeg) instead of as it is.
t.test('a camera sending Opus: its packets go to WebRTC as they are, with no converter, and its AAC is not converted back', async (t) => {
  const camera = new Set<(unit: AudioUnit) => void>();
  const aac = new Set<(unit: AudioUnit) => void>();
  const subscribeTo = (set: Set<(unit: AudioUnit) => void>) => (listener: (unit: AudioUnit) => void) => {
    set.add(listener);
    return () => set.delete(listener);
  };
  const lines: string[] = [];
  const opus = new OpusAudio({
    id: 'cam opus', aac: { subscribe: subscribeTo(aac), subscribeCamera: subscribeTo(camera) }, ffmpegPath: 'ffmpeg',
    startQueue: new PQueue({ concurrency: 2 }), processSlots: new ProcessSlots(4), log: createLogger('test', (line) => lines.push(line)),
  });
  t.teardown(() => opus.close());
  const out: AudioUnit[] = [];
  opus.subscribe((unit) => out.push(unit));
  t.equal(camera.size, 1, 'the Opus part listens to the camera\'s own sound');
  const units = (await makeOpusUnits(1)).slice(0, 20);
  const aacUnit: AudioUnit = { track: aacTrack(Buffer.from([0x11, 0x90])), data: Buffer.alloc(10), pts: 0, dts: 0, keyframe: true };
  for (const unit of units) {
    for (const listener of camera) listener({ track: unit.track, data: unit.data, pts: unit.pts, dts: unit.dts, keyframe: true });
    for (const listener of aac) listener(aacUnit); // the AAC part's conversion of the same sound
  }
  t.equal(out.length, units.length, 'one packet out for each of the camera\'s');
  t.ok(out.every((unit, index) => unit.data.equals(units[index]!.data) && unit.pts === units[index]!.pts), 'the same bytes at the same times');
  t.ok(out.every((unit) => unit.track.codec === 'opus'), 'all Opus');
  t.equal(opus.pid, undefined, 'no converter process');
  t.equal(opus.state, 'live');
  t.same([opus.counters.framesIn, opus.counters.framesOut, opus.counters.framesDropped], [20, 20, 0]);
});
