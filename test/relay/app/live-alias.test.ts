import t from 'tap';
import { liveAliasTarget, livePlayerUrl, type LiveCandidate } from '../../../relay/app/live-alias.ts';

const stream = (name: string, format: string, webSocket = true): LiveCandidate => ({ name, format, webSocket });

t.test('/player/BASE.live leads to the one WebSocket stream of that base name, the FLV one among several', async (t) => {
  const example = [stream('test.flv', 'flv'), stream('test.m3u8', 'hls'), stream('test.mjpg', 'mpjpeg', false), stream('door.m3u8', 'hls')];
  t.equal(liveAliasTarget(example, 'test'), 'test.flv', 'test.flv before test.m3u8');
  t.equal(liveAliasTarget(example, 'door'), 'door.m3u8', 'the only one');
  t.equal(liveAliasTarget(example, 'nothing'), undefined);
  t.equal(livePlayerUrl(example, 'test.flv'), '/player/test.live');
  t.equal(livePlayerUrl(example, 'test.m3u8'), '/player/test.m3u8.live', 'the other keeps its full name');
  t.equal(livePlayerUrl(example, 'door.m3u8'), '/player/door.live');
});

t.test('no short name where it would be ambiguous or taken', async (t) => {
  const twoHls = [stream('cam.m3u8', 'hls'), stream('cam.hls', 'hls')];
  t.equal(liveAliasTarget(twoHls, 'cam'), undefined, 'two streams of the base name, no FLV');
  t.equal(livePlayerUrl(twoHls, 'cam.m3u8'), '/player/cam.m3u8.live');
  const off = [stream('cam.flv', 'flv', false), stream('cam.m3u8', 'hls')];
  t.equal(liveAliasTarget(off, 'cam'), 'cam.m3u8', 'a stream with WebSocket no does not count');
  const taken = [stream('cam.flv', 'flv'), stream('cam.live', 'flv')];
  t.equal(livePlayerUrl(taken, 'cam.flv'), '/player/cam.flv.live', 'a stream named cam.live keeps /player/cam.live');
});
