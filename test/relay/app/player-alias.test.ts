import t from 'tap';
import { aliasedPlayerUrl, playerAliasTarget, type AliasCandidate } from '../../../relay/app/player-alias.ts';

const stream = (name: string, format: string, webSocket = true, webrtc = webSocket): AliasCandidate => ({ name, format, webSocket, webrtc });

t.test('/player/BASE.live and /player/BASE.webrtc lead to the one stream of that base name, the FLV one among several', async (t) => {
  const example = [stream('test.flv', 'flv'), stream('test.m3u8', 'hls'), stream('test.mjpg', 'mpjpeg', false), stream('door.m3u8', 'hls')];
  for (const player of ['live', 'webrtc'] as const) {
    t.equal(playerAliasTarget(example, 'test', player), 'test.flv', `${player}: test.flv before test.m3u8`);
    t.equal(playerAliasTarget(example, 'door', player), 'door.m3u8', `${player}: the only one`);
    t.equal(playerAliasTarget(example, 'nothing', player), undefined);
    t.equal(aliasedPlayerUrl(example, 'test.flv', player), `/player/test.${player}`);
    t.equal(aliasedPlayerUrl(example, 'test.m3u8', player), `/player/test.m3u8.${player}`, 'the other keeps its full name');
    t.equal(aliasedPlayerUrl(example, 'door.m3u8', player), `/player/door.${player}`);
  }
});

t.test('no short name where it would be ambiguous or taken', async (t) => {
  const twoHls = [stream('cam.m3u8', 'hls'), stream('cam.hls', 'hls')];
  t.equal(playerAliasTarget(twoHls, 'cam', 'live'), undefined, 'two streams of the base name, no FLV');
  t.equal(aliasedPlayerUrl(twoHls, 'cam.m3u8', 'live'), '/player/cam.m3u8.live');
  const off = [stream('cam.flv', 'flv', false), stream('cam.m3u8', 'hls')];
  t.equal(playerAliasTarget(off, 'cam', 'live'), 'cam.m3u8', 'a stream with WebSocket no does not count');
  t.equal(playerAliasTarget(off, 'cam', 'webrtc'), 'cam.m3u8', 'a stream with WebRTC no does not count');
  const onlyWebSocket = [stream('cam.flv', 'flv', true, false)];
  t.equal(playerAliasTarget(onlyWebSocket, 'cam', 'webrtc'), undefined, 'WebRTC no: no WebRTC short name');
  t.equal(playerAliasTarget(onlyWebSocket, 'cam', 'live'), 'cam.flv');
  const taken = [stream('cam.flv', 'flv'), stream('cam.live', 'flv')];
  t.equal(aliasedPlayerUrl(taken, 'cam.flv', 'live'), '/player/cam.flv.live', 'a stream named cam.live keeps /player/cam.live');
  t.equal(aliasedPlayerUrl(taken, 'cam.flv', 'webrtc'), '/player/cam.webrtc', 'another player is not taken by it');
});
