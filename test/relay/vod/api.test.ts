import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import t from 'tap';
import { MAX_RUNTIME_STREAMS } from '../../../relay/vod/streams.ts';
import { makeTestMedia } from '../../helpers/media.ts';
import { childFfmpegProcesses, ffprobe, openViewer, waitFor } from '../../helpers/probe.ts';
import { startTestRelayFor } from '../../helpers/relay.ts';

const media = await makeTestMedia(4);
const relay = await startTestRelayFor(t, `MediaPath ${media.dir}
VodStreamTimeout 3
<Camera taken>
  Source testsrc://?size=160x120&rate=5
  OnDemand yes
</Camera>
<Stream taken.mjpg>
  Feed taken
</Stream>
<Stream stat.html>
  Format status
</Stream>
`, () => media.cleanup());

async function api(verb: string, body?: unknown, init: RequestInit = {}): Promise<{ status: number; json: any }> {
  const response = await fetch(`${relay.baseUrl}/api/vod/${verb}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    ...init,
  });
  const text = await response.text();
  return { status: response.status, json: text ? JSON.parse(text) : undefined };
}

/** The ffmpeg processes reading `file` in real time: the vod-live readers. */
function readersOf(file: string): number {
  return childFfmpegProcesses(process.pid).filter((child) => child.cmdline.includes('-re') && child.cmdline.includes(file)).length;
}

t.test('startup answers with the stream record; the stream is served like a configured one', async (t) => {
  const started = await api('startup', { uri: 'vod-live://movie.mp4', localStreamName: 'film', loop: true });
  t.equal(started.status, 200);
  t.match(started.json, {
    localStreamName: 'film', uri: 'vod-live://movie.mp4', loop: true, state: 'idle', viewers: 0, position: null,
    hasVideo: true, hasAudio: true, urls: { flv: '/film.flv', hls: '/film.m3u8', player: '/player/film.m3u8' },
  });
  t.ok(Date.parse(started.json.startedAt) <= Date.now());
  const flv = await ffprobe(`${relay.baseUrl}/film.flv`, 2);
  t.match(flv, { codec_name: 'h264', width: 320, height: 240 });
  const hls = await ffprobe(`${relay.baseUrl}/film.m3u8`, 2);
  t.match(hls, { codec_name: 'h264', width: 320, height: 240 });
  t.match(started.json.urls, { mjpeg: '/film.mjpg', jpeg: '/film.jpg' });
  t.match(await ffprobe(`${relay.baseUrl}/film.mjpg`, 1), { codec_name: 'mjpeg', width: 320, height: 240 }, 'MJPEG decoded from the H.264 file');
  const index = await (await fetch(`${relay.baseUrl}/`)).text();
  t.match(index, /film\.flv/, 'listed on /');
  const stat = await (await fetch(`${relay.baseUrl}/stat.html`)).text();
  t.match(stat, /film\.m3u8/, 'listed on /stat.html');
  t.equal((await fetch(`${relay.baseUrl}/player/film.m3u8`)).status, 200, 'its player page');
  await relay.reload();
  t.ok(relay.relay.outputs.has('film.flv'), 'a reload leaves started streams alone');
});

t.test('two viewers joining 5 s apart share one reader of the file, which keeps looping', async (t) => {
  const first = await openViewer(`${relay.baseUrl}/film.flv`);
  await waitFor(() => first.bytes > 0, 15_000, 'the first viewer\'s video');
  await new Promise((resolve) => setTimeout(resolve, 5000));
  const second = await openViewer(`${relay.baseUrl}/film.flv`);
  await waitFor(() => second.bytes > 1000, 15_000, 'the second viewer\'s video');
  t.equal(readersOf('movie.mp4'), 1, 'one ffmpeg reads the file');
  const feed = relay.relay.feeds.get('film')!;
  t.equal(feed.status.restarts, 0, 'never restarted');
  // The file is 4 s at 10 fps: more than 40 frames means it went round.
  t.ok(feed.counters.framesIn > 45, `${feed.counters.framesIn} frames: the file looped`);
  const found = await api('find', { localStreamName: 'film' });
  t.equal(found.status, 200);
  t.match(found.json, [{ localStreamName: 'film', state: 'live' }]);
  // The two FLV viewers, plus ffprobe's HLS client of the first test while it is still counted as recent.
  t.ok(found.json[0].viewers >= 2 && found.json[0].viewers <= 3, `${found.json[0].viewers} viewers`);
  t.ok(found.json[0].position >= 0 && found.json[0].position < 4.2, `position ${found.json[0].position} s into the file`);
  first.close();
  second.close();
});

t.test('a stream stops within VodStreamTimeout + 2 s after its last viewer leaves', async (t) => {
  t.equal((await api('startup', { uri: 'vod-live://silent.mp4', localStreamName: 'clip', loop: true })).status, 200);
  const viewer = await openViewer(`${relay.baseUrl}/clip.flv`);
  await waitFor(() => viewer.bytes > 1000, 15_000, 'video');
  t.equal(readersOf('silent.mp4'), 1);
  viewer.close();
  const left = Date.now();
  // VodStreamTimeout is 3 s: stopped within 3 + 2 s of the viewer leaving, and not before the timeout.
  await waitFor(() => readersOf('silent.mp4') === 0 && relay.relay.feeds.get('clip')!.state === 'idle', 5000, 'the reader to stop');
  const after = (Date.now() - left) / 1000;
  t.ok(after >= 2.5 && after <= 5, `stopped ${after.toFixed(1)} s after the last viewer left`);
  t.equal((await api('find', { localStreamName: 'clip' })).json[0].state, 'idle');
});

t.test('terminate ends viewers cleanly and forgets the stream', async (t) => {
  const viewer = await openViewer(`${relay.baseUrl}/film.flv`);
  await waitFor(() => viewer.bytes > 1000, 15_000, 'video');
  const ended = new Promise<void>((resolve) => viewer.response.on('close', resolve));
  const stopped = await api('terminate', { localStreamName: 'film' });
  t.equal(stopped.status, 200);
  t.match(stopped.json, { localStreamName: 'film', state: 'stopped' });
  await ended;
  t.pass('the viewer\'s response ended');
  t.equal((await api('find', { localStreamName: 'film' })).status, 404);
  t.equal((await fetch(`${relay.baseUrl}/film.flv`)).status, 404);
  const stat = await (await fetch(`${relay.baseUrl}/stat.json`)).json();
  t.notOk(stat.streams.some((stream: { name: string }) => stream.name.startsWith('film.')), 'gone from /stat.json');
  t.same((await api('terminate', { localStreamName: 'film' })).json, { code: 'STREAM_NOT_FOUND', message: 'No such stream' });
  await waitFor(() => readersOf('movie.mp4') === 0, 5000, 'the reader to stop');
});

t.test('the seed\'s five-digit-length MJPEG file plays as MJPEG', async (t) => {
  const started = await api('startup', { uri: 'vod-live://movie.Mjpeg?fps=10', localStreamName: 'seed', loop: true });
  t.equal(started.status, 200);
  t.match(started.json.urls, { mjpeg: '/seed.mjpg', jpeg: '/seed.jpg' });
  const viewer = await openViewer(`${relay.baseUrl}/seed.mjpg`);
  t.match(viewer.response.headers['content-type'], /multipart\/x-mixed-replace/);
  await waitFor(() => viewer.head.toString('latin1').split('\xff\xd8').length > 4, 10_000, 'three JPEG parts');
  viewer.close();
  t.match(await ffprobe(`${relay.baseUrl}/seed.mjpg`, 1), { codec_name: 'mjpeg', width: 320, height: 240 });
  t.equal((await api('terminate', { localStreamName: 'seed' })).status, 200);
});

t.test('find_all lists the started streams, and is 404 when there are none', async (t) => {
  const all = await api('find_all');
  t.equal(all.status, 200);
  t.same(all.json.map((record: { localStreamName: string }) => record.localStreamName), ['clip']);
  t.equal((await api('terminate', { localStreamName: 'clip' })).status, 200);
  t.same(await api('find_all'), { status: 404, json: { code: 'STREAM_NOT_FOUND', message: 'No streams are running' } });
});

t.test('startup refusals: taken names, missing and unplayable files, traversal, bad fields', async (t) => {
  const seedFile = await readFile(join(media.dir, 'movie.Mjpeg'));
  const firstFrame = seedFile.subarray(0, 5 + Number(seedFile.toString('latin1', 0, 5)));
  await writeFile(join(media.dir, 'bad-length.Mjpeg'), Buffer.concat([firstFrame, Buffer.from('12x45'), Buffer.alloc(100)]));
  const cases: Array<[unknown, number, string]> = [
    [{ uri: 'vod-live://movie.mp4', localStreamName: 'taken' }, 409, 'NAME_TAKEN'],
    [{ uri: 'vod-live://movie.mp4', localStreamName: 'TAKEN' }, 409, 'NAME_TAKEN'],
    [{ uri: 'vod-live://movie.mp4', localStreamName: 'stat' }, 409, 'NAME_TAKEN'],
    [{ uri: 'vod-live://movie.mp4', localStreamName: 'vod' }, 400, 'BAD_REQUEST'],
    [{ uri: 'vod-live://movie.mp4', localStreamName: 'Player' }, 400, 'BAD_REQUEST'],
    [{ uri: 'vod-live://missing.mp4', localStreamName: 'a' }, 404, 'FILE_NOT_FOUND'],
    [{ uri: 'vod-live://notvideo.mp4', localStreamName: 'a' }, 400, 'NOT_VIDEO'],
    [{ uri: 'vod-live://truncated.mp4', localStreamName: 'a' }, 400, 'NOT_VIDEO'],
    [{ uri: 'vod-live://sound.mp4', localStreamName: 'a' }, 400, 'NO_VIDEO_TRACK'],
    [{ uri: 'vod-live://bad-length.Mjpeg', localStreamName: 'a' }, 400, 'NOT_VIDEO'],
    [{ uri: 'vod-live://../movie.mp4', localStreamName: 'a' }, 400, 'BAD_PATH'],
    [{ uri: 'vod-live://%2e%2e/etc/passwd', localStreamName: 'a' }, 400, 'BAD_PATH'],
    [{ uri: 'vod-live://..%2fetc%2fpasswd', localStreamName: 'a' }, 400, 'BAD_PATH'],
    [{ uri: `vod-live://${encodeURIComponent('/etc/passwd')}`, localStreamName: 'a' }, 400, 'BAD_PATH'],
    [{ uri: 'vod-live://movie.mp4%00', localStreamName: 'a' }, 400, 'BAD_PATH'],
    [{ uri: 'vod-live://movie.mp4\nSource http://evil', localStreamName: 'a' }, 400, 'BAD_REQUEST'],
    [{ uri: 'vod://movie.mp4', localStreamName: 'a' }, 400, 'BAD_REQUEST'],
    [{ uri: 'http://127.0.0.1/x', localStreamName: 'a' }, 400, 'BAD_REQUEST'],
    [{ uri: 'vod-live://movie.mp4', localStreamName: 'a b' }, 400, 'BAD_REQUEST'],
    [{ uri: 'vod-live://movie.mp4', localStreamName: 'a.flv' }, 400, 'BAD_REQUEST'],
    [{ uri: 'vod-live://movie.mp4', localStreamName: '' }, 400, 'BAD_REQUEST'],
    [{ uri: 42, localStreamName: 'a' }, 400, 'BAD_REQUEST'],
    [{ uri: 'vod-live://movie.mp4', localStreamName: ['a'] }, 400, 'BAD_REQUEST'],
    [{ uri: 'vod-live://movie.mp4', localStreamName: 'a', loop: 'yes' }, 400, 'BAD_REQUEST'],
    [{ localStreamName: 'a' }, 400, 'BAD_REQUEST'],
    [{ uri: 'vod-live://movie.mp4', localStreamName: { toString: 'a' } }, 400, 'BAD_REQUEST'],
  ];
  for (const [body, status, code] of cases) {
    const answer = await api('startup', body);
    t.equal(answer.status, status, JSON.stringify(body));
    t.equal(answer.json.code, code, JSON.stringify(body));
    t.notMatch(JSON.stringify(answer.json), media.dir, 'no path of the machine');
  }
  t.equal(relay.relay.runtimeCameras.size, 0, 'nothing was started');
});

t.test('hostile JSON: huge, deep, malformed, wrong types, wrong methods', async (t) => {
  t.equal((await api('startup', `{"uri":"${'x'.repeat(1024 * 1024)}"}`)).status, 413, 'a 1 MiB body');
  const deep = `${'['.repeat(100_000)}${']'.repeat(100_000)}`;
  t.match(await api('startup', deep), { status: 413 }, 'deep nesting past the size cap');
  const deepSmall = `${'{"a":'.repeat(2000)}1${'}'.repeat(2000)}`;
  t.match(await api('startup', deepSmall), { status: 400, json: { code: 'BAD_REQUEST' } }, 'deep nesting within the cap');
  for (const body of ['{', 'null', '[]', '"text"', '12', '{"uri":}', '\u0000\u0001', '{"__proto__":{"uri":"vod-live://movie.mp4"},"localStreamName":"p"}']) {
    const answer = await api('startup', body);
    t.equal(answer.status, 400, `${JSON.stringify(body)}: 400`);
    t.equal(answer.json.code, 'BAD_REQUEST');
  }
  t.equal((await api('find', { localStreamName: 7 })).status, 400);
  t.equal((await api('find', { localStreamName: 'nobody' })).status, 404);
  t.equal((await api('nonsense', {})).status, 404);
  const wrongMethod = await fetch(`${relay.baseUrl}/api/vod/find_all`);
  t.equal(wrongMethod.status, 405);
  t.equal(wrongMethod.headers.get('allow'), 'POST');
  t.equal((await fetch(`${relay.baseUrl}/vod/movie.mp4`, { method: 'POST' })).status, 405, 'POST is for /api/ only');
  t.equal((await fetch(`${relay.baseUrl}/`)).status, 200, 'the relay is still up');
});

t.test('1,000 startup calls in a row are bounded', async (t) => {
  const started = Date.now();
  const statuses = new Map<number, number>();
  for (let i = 0; i < 1000; i++) {
    const answer = await api('startup', { uri: 'vod-live://movie.Mjpeg', localStreamName: `many-${i % 500}` });
    statuses.set(answer.status, (statuses.get(answer.status) ?? 0) + 1);
  }
  t.equal(statuses.get(200), MAX_RUNTIME_STREAMS, `${MAX_RUNTIME_STREAMS} started`);
  t.equal(statuses.get(503), 1000 - MAX_RUNTIME_STREAMS - (statuses.get(409) ?? 0), 'the rest refused as too many');
  t.ok((statuses.get(409) ?? 0) >= MAX_RUNTIME_STREAMS, 'repeated names refused as taken');
  t.equal(relay.relay.runtimeCameras.size, MAX_RUNTIME_STREAMS);
  t.ok(Date.now() - started < 60_000, `${((Date.now() - started) / 1000).toFixed(1)} s`);
  t.equal(childFfmpegProcesses(process.pid).length, 0, 'nothing reads a file while nobody watches');
  for (const record of (await api('find_all')).json) t.equal((await api('terminate', { localStreamName: record.localStreamName })).status, 200);
  t.equal(relay.relay.runtimeCameras.size, 0);
});

t.test('the logs hold no errors or stacks', async (t) => {
  t.same(relay.logs.filter((line) => / error /.test(line) || /\n\s+at /.test(line)), []);
  t.notOk(relay.logs.some((line) => line.includes(media.dir)), 'no media path in the logs');
});

