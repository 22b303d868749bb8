// Guards the ownership tree below a camera: one encoder per distinct setting, released with its last user, and a
// camera's close() that goes down to its JPEG view and encoders before its feed, safe to call twice.
import PQueue from 'p-queue';
import t from 'tap';
import { silentLogger } from '../../../lib/log.ts';
import { ProcessSlots } from '../../../lib/process-slots.ts';
import type { Feed } from '../../../relay/core/feed.ts';
import type { EncoderSettings } from '../../../relay/encoders/ffmpeg-args.ts';
import type { AacAudio } from '../../../relay/encoders/aac-audio.ts';
import type { OpusAudio } from '../../../relay/encoders/opus-audio.ts';
import type { JpegView } from '../../../relay/encoders/jpeg-view.ts';
import type { SharedEncoder } from '../../../relay/encoders/shared-encoder.ts';
import { CameraParts, type CameraPartFactory, type EncoderEntry } from '../../../relay/running/camera-parts.ts';

const settings = (bitRateKbps: number): EncoderSettings =>
  ({ codec: 'libx264', size: undefined, frameRate: 10, bitRateKbps, qMin: undefined, qMax: undefined, gopSize: 0, keyframeSeconds: 2 });

function fixture() {
  const events: string[] = [];
  const part = (name: string) => ({
    start: () => events.push(`start ${name}`),
    close: async () => {
      events.push(`close ${name}`);
    },
  });
  const factory: CameraPartFactory = {
    encoder: (id) => ({ id, ...part(`encoder ${id}`) }) as unknown as SharedEncoder,
    jpegView: () => part('jpeg') as unknown as JpegView,
    audio: (id) => ({ id, ...part(`audio ${id}`) }) as unknown as AacAudio,
    opus: (id) => ({ id, ...part(`opus ${id}`) }) as unknown as OpusAudio,
    settingsKey: (value) => String(value.bitRateKbps),
  };
  const feed = { camera: { name: 'cam' }, close: async () => events.push('close feed') } as unknown as Feed;
  const all = new Map<string, EncoderEntry>();
  let serial = 0;
  const env = { startQueue: new PQueue(), processSlots: new ProcessSlots(4), log: silentLogger };
  const camera = new CameraParts(feed, factory, env, all, () => `cam#${++serial}`);
  return { camera, events, all };
}

t.test('one encoder per setting, shared by its users, closed with the last of them', async (t) => {
  const { camera, events, all } = fixture();
  const first = camera.encoder(settings(300), 'a.flv');
  t.equal(camera.encoder(settings(300), 'a.m3u8'), first, 'equal settings share one encoder');
  const other = camera.encoder(settings(600), 'b.flv');
  t.not(other, first);
  t.same([...all.values()].map((entry) => [entry.camera, entry.encoder.id, [...entry.users]]), [['cam', 'cam#1', ['a.flv', 'a.m3u8']], ['cam', 'cam#2', ['b.flv']]]);
  await camera.release('a.flv');
  t.notOk(events.includes('close encoder cam#1'), 'still used by a.m3u8');
  await camera.release('a.m3u8');
  t.ok(events.includes('close encoder cam#1'), 'closed with its last user');
  t.same([...all.values()].map((entry) => entry.encoder.id), ['cam#2']);
});

t.test('close goes down to the JPEG view and the encoders, then the feed, once however often it is called', async (t) => {
  const { camera, events, all } = fixture();
  camera.encoder(settings(300), 'a.flv');
  t.equal(camera.jpegView(), camera.jpegView(), 'one JPEG view');
  await Promise.all([camera.close(), camera.close()]);
  await camera.close();
  t.same(events.filter((event) => event.startsWith('close')), ['close jpeg', 'close encoder cam#1', 'close feed']);
  t.equal(all.size, 0, 'the relay\'s list of encoders follows');
  t.throws(() => camera.encoder(settings(300), 'late.flv'), /camera cam is closed/, 'nothing new is built on a closed camera');
});

t.test('one sound part per camera, shared by the streams that carry sound, closed with the last of them', async (t) => {
  const { camera, events } = fixture();
  const audio = camera.audio('a.flv');
  t.equal(camera.audio('a.m3u8'), audio, 'one per camera');
  t.same(events, ['start audio cam#1 audio']);
  await camera.release('a.flv');
  t.notOk(events.includes('close audio cam#1 audio'), 'still used by a.m3u8');
  await camera.release('a.m3u8');
  t.ok(events.includes('close audio cam#1 audio'), 'closed with its last user');
  t.equal(camera.audioPart, undefined);
});

t.test('one Opus part per camera on its sound part, closed with its last user before the sound part it reads', async (t) => {
  const { camera, events } = fixture();
  const opus = camera.opus('a.flv');
  t.equal(camera.opus('a.m3u8'), opus, 'one per camera');
  t.equal(camera.audioPart?.audio, camera.audio('b.flv'), 'it holds the camera\'s sound part');
  await camera.release('a.flv');
  t.notOk(events.includes('close opus cam#2 opus'), 'still used by a.m3u8');
  await camera.release('a.m3u8');
  t.ok(events.includes('close opus cam#2 opus'), 'closed with its last user');
  t.equal(camera.opusPart, undefined);
  t.notOk(events.includes('close audio cam#1 audio'), 'the sound part stays for b.flv');
  await camera.release('b.flv');
  t.same(events.filter((event) => event.startsWith('close')), ['close opus cam#2 opus', 'close audio cam#1 audio']);
});
