import t from 'tap';
import { HeldRequests } from '../../../relay/hls/held.ts';
import { parseBlockingQuery } from '../../../relay/hls/http.ts';
import { findHlsResource, parseHlsName } from '../../../relay/hls/lookup.ts';
import { HlsPackager, LATE_READER_SEGMENTS } from '../../../relay/hls/packager.ts';
import { renderLowLatencyPlaylist, renderPlaylist } from '../../../relay/hls/playlist.ts';
import { HlsSessions } from '../../../relay/hls/sessions.ts';
import { FrameTimeline } from '../../../relay/hls/timeline.ts';
import { h264Track } from '../../../media/h264/params.ts';
import type { H264Unit, H264Track } from '../../../media/types.ts';
import { prng } from '../../helpers/prng.ts';

const sps = Buffer.from('67f40016919b281405ff138088000003000800000300a078b16cb0', 'hex');
const pps = Buffer.from('68ebe3c44844', 'hex');
const frame = (track: H264Track, ms: number, keyframe: boolean, size = 100): H264Unit =>
  ({ track, data: [Buffer.alloc(size, keyframe ? 0x65 : 0x41)], pts: ms, dts: ms, keyframe });

t.test('timeline: starts on a keyframe, refuses time going back and NaN, continues across a new track', async (t) => {
  const timeline = new FrameTimeline();
  const a = h264Track(sps, pps);
  const b = h264Track(sps, pps);
  t.equal(timeline.place(frame(a, 0, false)), undefined, 'no start before a keyframe');
  const first = timeline.place(frame(a, 500, true))!;
  t.ok(first.newTrack);
  t.equal(timeline.place(frame(a, 540, false))!.dts, first.dts + 40);
  t.equal(timeline.place(frame(a, 540, false)), undefined, 'the same decode time twice');
  t.equal(timeline.place(frame(a, 100, false)), undefined, 'back in time');
  t.equal(timeline.place({ ...frame(a, 600, false), dts: Number.NaN }), undefined, 'NaN');
  t.equal(timeline.place(frame(b, 0, false)), undefined, 'a new track waits for its keyframe');
  const restarted = timeline.place(frame(b, 0, true))!;
  t.ok(restarted.newTrack);
  t.ok(restarted.dts > first.dts + 40, 'the new track goes on after the old one although its clock restarted at 0');
});

t.test('packager: a camera without keyframes still gets segments cut, and memory stays bounded', async (t) => {
  const track = h264Track(sps, pps);
  const packager = new HlsPackager({ container: 'fmp4', segmentSeconds: 1, listSize: 3, partSeconds: 0.3 }, 's/');
  packager.push(frame(track, 0, true));
  for (let ms = 40; ms < 60_000; ms += 40) packager.push(frame(track, ms, false, 2000));
  t.equal(packager.segments.length, 3 + LATE_READER_SEGMENTS, 'only the window and the late readers are kept');
  t.ok(packager.segments.every((segment) => segment.duration <= 4.05), 'segments cut at four targets without a keyframe');
  const playlist = renderLowLatencyPlaylist(packager)!;
  t.match(playlist, /#EXT-X-TARGETDURATION:4\n/, 'the target duration covers the longest segment');
  t.equal(renderPlaylist(new HlsPackager({ container: 'ts', segmentSeconds: 1, listSize: 3, partSeconds: 0.3 }, 's/')), undefined, 'no playlist before a segment');
});

t.test('LL-HLS: a gap in the camera\'s frames never makes a part longer than the part target', async (t) => {
  // Guards the PART-TARGET promise: a camera that stalled 700 ms made one 0.7 s part under a 0.3 s target.
  const track = h264Track(sps, pps);
  const packager = new HlsPackager({ container: 'fmp4', segmentSeconds: 1, listSize: 3, partSeconds: 0.3 }, 's/');
  let ms = 0;
  for (let i = 0; i < 200; i++) {
    ms += i % 30 === 29 ? 700 : 40;
    packager.push(frame(track, ms, i % 25 === 0));
  }
  const parts = [...packager.segments, packager.open!].flatMap((segment) => segment.parts);
  t.ok(parts.length > 20);
  t.same(parts.filter((part) => part.duration > 0.3 + 1e-9).map((part) => part.duration), [], 'no part over 0.3 s');
  const ts = new HlsPackager({ container: 'ts', segmentSeconds: 1, listSize: 3, partSeconds: 0.3 }, 's/');
  ms = 0;
  for (let i = 0; i < 60; i++) ts.push(frame(track, (ms += i === 30 ? 700 : 40), i % 25 === 0));
  t.ok(ts.segments.some((segment) => segment.duration > 1.5), 'MPEG-TS keeps the real gap (it has no parts)');
});

t.test('MPEG-TS: a camera outage longer than a segment leaves the target duration at the setting', async (t) => {
  // Guards a 22 s outage that made one 22 s segment and EXT-X-TARGETDURATION:23 for good: Chromium's native HLS never started.
  const track = h264Track(sps, pps);
  const packager = new HlsPackager({ container: 'ts', segmentSeconds: 1, listSize: 3, partSeconds: 0.3 }, 's/');
  let ms = 0;
  for (let i = 0; i < 150; i++) packager.push(frame(track, (ms += i === 60 ? 22_000 : 40), i % 25 === 0));
  t.ok(packager.segments.every((segment) => segment.duration < 2), `segments ${packager.segments.map((segment) => segment.duration.toFixed(2)).join(' ')}`);
  t.match(renderPlaylist(packager)!, /#EXT-X-TARGETDURATION:1\n/, 'the target duration is the setting');
});

t.test('names: only what the packager gives out parses; fuzzed names never throw', async (t) => {
  t.same(parseHlsName('abc-12.ts'), { kind: 'segment', run: 'abc', sequence: 12 });
  t.same(parseHlsName('abc-12.3.m4s'), { kind: 'part', run: 'abc', sequence: 12, part: 3 });
  t.same(parseHlsName('abc-init2.mp4'), { kind: 'init', run: 'abc' });
  for (const name of ['abc-1.2.ts', '../abc-1.ts', 'abc-1.ts/', 'ABC-1.ts', `abc-${'1'.repeat(11)}.ts`, 'abc-.ts', '-1.ts', 'abc-1.mp4', '']) {
    t.equal(parseHlsName(name), undefined, JSON.stringify(name));
  }
  const packager = new HlsPackager({ container: 'ts', segmentSeconds: 1, listSize: 3, partSeconds: 0.3 }, 's/');
  const random = prng(15);
  for (let i = 0; i < 2000; i++) {
    const name = Buffer.from(Array.from({ length: Math.floor(random() * 40) }, () => Math.floor(random() * 128))).toString('latin1');
    t.doesNotThrow(() => findHlsResource(packager, name), 'fuzzed name');
  }
});

t.test('blocking query: decimal numbers only', async (t) => {
  t.same(parseBlockingQuery({}), undefined);
  t.same(parseBlockingQuery({ _HLS_msn: '5', _HLS_part: '2' }), { msn: 5, part: 2 });
  for (const query of [{ _HLS_part: '1' }, { _HLS_msn: '' }, { _HLS_msn: ['1', '2'] }, { _HLS_msn: '1', _HLS_part: '-1' }, { _HLS_msn: '0x10' }]) {
    t.throws(() => parseBlockingQuery(query), /_HLS_/, JSON.stringify(query));
  }
});

t.test('sessions: bounded per address, released when they stop polling', async (t) => {
  let held = 0;
  const sessions = new HlsSessions(1000, 2, () => {
    held++;
    return () => held--;
  });
  for (const agent of ['a', 'b', 'c', 'd']) sessions.touch('10.0.0.1', HlsSessions.key('10.0.0.1', undefined, agent), 0);
  sessions.touch('10.0.0.2', HlsSessions.key('10.0.0.2', undefined, 'a'), 0);
  t.equal(sessions.count, 3);
  t.equal(held, 3, 'each session holds the camera');
  t.notOk(sessions.wouldAdd('10.0.0.1', HlsSessions.key('10.0.0.1', undefined, 'e')), 'a full address adds none');
  t.ok(HlsSessions.key('x', undefined, 'u'.repeat(10_000)).length < 300, 'huge agents are cut');
  sessions.sweep(5000);
  t.equal(sessions.count, 0);
  t.equal(held, 0);
});

t.test('held requests: bounded, released by condition, by abort, and at close', async (t) => {
  const held = new HeldRequests(2);
  let ready = false;
  const gone = new AbortController();
  const first = held.wait(() => ready, 10_000, new AbortController().signal);
  const second = held.wait(() => false, 10_000, gone.signal);
  t.equal(await held.wait(() => false, 10_000, new AbortController().signal), 'full');
  ready = true;
  held.check();
  t.equal(await first, 'ready');
  gone.abort();
  t.equal(await second, 'gone');
  const third = held.wait(() => false, 10_000, new AbortController().signal);
  held.close();
  t.equal(await third, 'closed');
  t.equal(held.size, 0);
  t.equal(await held.wait(() => false, 10, new AbortController().signal), 'closed', 'nothing is held after close');
  t.equal(await new HeldRequests(1).wait(() => false, 20, new AbortController().signal), 'timeout');
});

t.test('held requests: one address cannot take every place', async (t) => {
  const held = new HeldRequests(10, 2);
  const signal = new AbortController().signal;
  const waiting = [held.wait(() => false, 10_000, signal, 'a'), held.wait(() => false, 10_000, signal, 'a')];
  t.equal(await held.wait(() => false, 10_000, signal, 'a'), 'full', 'a third from the same address');
  const other = held.wait(() => false, 10_000, signal, 'b');
  t.equal(held.size, 3, 'another address still gets a place');
  held.close();
  t.same(await Promise.all([...waiting, other]), ['closed', 'closed', 'closed']);
  const one = new HeldRequests(10, 1);
  let ready = false;
  const first = one.wait(() => ready, 10_000, signal, 'a');
  t.equal(await one.wait(() => false, 10, signal, 'a'), 'full');
  ready = true;
  one.check();
  t.equal(await first, 'ready');
  t.equal(await one.wait(() => false, 10, signal, 'a'), 'timeout', 'the place comes back when the request ends');
});
