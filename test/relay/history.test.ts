import t from 'tap';
import { HISTORY_SAMPLES, SampleRing, StatusHistory } from '../../relay/app/history.ts';
import { snapshotOf } from '../helpers/status-snapshot.ts';

t.test('a ring keeps the latest values oldest first, and never more than its capacity', async (t) => {
  const ring = new SampleRing(4);
  t.same(ring.toArray(), []);
  t.ok(ring.empty);
  for (const value of [1, null, 3]) ring.push(value);
  t.same(ring.toArray(), [1, null, 3]);
  for (const value of [4, 5, Number.NaN, Infinity]) ring.push(value);
  t.same(ring.toArray(), [4, 5, null, null], 'wrapped around; NaN and Infinity are gaps');
  t.notOk(ring.empty);
});

t.test('the history holds a known series per server, camera and stream', async (t) => {
  const history = new StatusHistory(5);
  for (let i = 0; i < 3; i++) {
    history.record(snapshotOf({
      viewers: i,
      outKbps: i * 100,
      cameras: [{ name: 'lobby', inputFps: i === 0 ? null : 10 + i, viewers: i }],
      streams: [{ name: 'lobby.flv', viewers: i, outKbps: i * 50 }],
    }), 1000 + i);
  }
  t.same(history.values('server', '', 'viewers'), [0, 1, 2]);
  t.same(history.values('server', '', 'outKbps'), [0, 100, 200]);
  t.same(history.values('camera', 'lobby', 'inputFps'), [null, 11, 12], 'a rate not measured yet is a gap');
  t.same(history.values('stream', 'lobby.flv', 'outKbps'), [0, 50, 100]);
  t.equal(history.values('stream', 'lobby.flv', 'inputFps'), undefined, 'streams have no input rate');
  t.equal(history.lastSampleAt, 1002);
});

t.test('a stream added later is padded; one removed is dropped once its hour has passed', async (t) => {
  const history = new StatusHistory(3);
  history.record(snapshotOf({ viewers: 1, outKbps: 1, streams: [{ name: 'old', viewers: 7, outKbps: 1 }] }));
  history.record(snapshotOf({ viewers: 1, outKbps: 1, streams: [{ name: 'new', viewers: 4, outKbps: 1 }] }));
  t.same(history.values('stream', 'new', 'viewers'), [null, 4], 'padded so its newest sample lines up');
  t.same(history.values('stream', 'old', 'viewers'), [7, null]);
  history.record(snapshotOf({ viewers: 1, outKbps: 1 }));
  history.record(snapshotOf({ viewers: 1, outKbps: 1 }));
  t.equal(history.values('stream', 'old', 'viewers'), undefined, 'gone once nothing of it is left');
  t.same(history.values('stream', 'new', 'viewers'), [4, null, null]);
});

t.test('an hour and more of samples from many streams stays bounded', async (t) => {
  const history = new StatusHistory();
  for (let i = 0; i < HISTORY_SAMPLES + 50; i++) {
    // Each sample names a stream of its own, as a config reloaded every 10 s could.
    history.record(snapshotOf({ viewers: i, outKbps: i, streams: [{ name: `s${i}`, viewers: 1, outKbps: 1 }] }));
  }
  t.equal(history.values('server', '', 'viewers')!.length, HISTORY_SAMPLES);
  t.equal(history.values('server', '', 'viewers')!.at(-1), HISTORY_SAMPLES + 49);
  const streams = new Set(history.all().filter(({ key }) => key.owner === 'stream').map(({ key }) => key.name));
  t.ok(streams.size <= HISTORY_SAMPLES, `${streams.size} stream names kept, at most one hour's worth`);
  t.notOk(streams.has('s0'), 'the oldest are gone');
});

t.test('origin requests of an HLS stream become a rate per second between samples', async (t) => {
  const history = new StatusHistory(5);
  const hls = (playlist: number, segment: number) => [{ name: 'cam.m3u8', viewers: 0, outKbps: 0, originRequests: { playlist, segment, part: 0, init: 0 } }];
  history.record(snapshotOf({ viewers: 0, outKbps: 0, streams: hls(10, 5) }), 0);
  history.record(snapshotOf({ viewers: 0, outKbps: 0, streams: hls(15, 10) }), 10_000);
  history.record(snapshotOf({ viewers: 0, outKbps: 0, streams: hls(35, 20) }), 20_000);
  // A reload rebuilt the stream: its counters start again from zero.
  history.record(snapshotOf({ viewers: 0, outKbps: 0, streams: hls(2, 1) }), 30_000);
  t.same(history.values('stream', 'cam.m3u8', 'originRequestsPerSecond'), [null, 1, 3, null]);
  history.record(snapshotOf({ viewers: 0, outKbps: 0, streams: [{ name: 'cam.flv', viewers: 0, outKbps: 0 }] }), 40_000);
  t.equal(history.values('stream', 'cam.flv', 'originRequestsPerSecond'), undefined, 'FLV streams have no origin requests');
});
