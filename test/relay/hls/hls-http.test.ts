import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import type { HlsOutput } from '../../../relay/outputs/hls.ts';
import { fetchBytes, ffprobe, waitFor } from '../../helpers/probe.ts';
import { startTestRelay } from '../../helpers/relay.ts';

const relay = await startTestRelay(`
<Camera test>
  Source testsrc://?size=320x240&rate=10
</Camera>
<Stream test.m3u8>
  Feed test
  VideoFrameRate 10
  VideoBitRate 300
  HLSSegmentTime 1
  HLSListSize 3
</Stream>
<Stream ll.m3u8>
  Feed test
  VideoFrameRate 10
  VideoBitRate 300
  HLSSegmentTime 1
  HLSListSize 3
  LowLatency yes
</Stream>
<Stream stat.html>
  Format status
</Stream>
`);
const dir = await mkdtemp(join(tmpdir(), 'hls-http-'));
t.teardown(async () => {
  await relay.stop();
  await rm(dir, { recursive: true, force: true });
});

const get = (path: string, headers: Record<string, string> = {}, method = 'GET'): Promise<Response> =>
  fetch(`${relay.baseUrl}${path}`, { headers, method });
const uris = (playlist: string): string[] => playlist.split('\n').filter((line) => line && !line.startsWith('#'));
await waitFor(async () => uris(await (await get('/test.m3u8')).text()).length >= 2, 30_000, 'two TS segments');
await waitFor(async () => uris(await (await get('/ll.m3u8')).text()).length >= 2, 30_000, 'two fMP4 segments');

t.test('playlist: briefly cacheable, validators, 304, HEAD, CORS, no Vary', async (t) => {
  const response = await get('/test.m3u8');
  const body = await response.text();
  t.equal(response.status, 200);
  t.equal(response.headers.get('cache-control'), 'public, max-age=1', 'about half a one-second segment');
  t.equal(response.headers.get('access-control-allow-origin'), '*');
  t.equal(response.headers.get('vary'), null);
  t.equal(Number(response.headers.get('content-length')), Buffer.byteLength(body));
  const etag = response.headers.get('etag')!;
  t.match(etag, /^"[0-9a-z]+\.\d+"$/);
  t.ok(response.headers.get('last-modified'));
  t.match(body, /^#EXTM3U\n#EXT-X-VERSION:\d+\n#EXT-X-TARGETDURATION:\d+\n#EXT-X-MEDIA-SEQUENCE:\d+\n/);
  t.notMatch(body, /EXT-X-ENDLIST/);
  const again = await get('/test.m3u8', { 'If-None-Match': etag });
  if (again.status === 304) t.equal((await again.arrayBuffer()).byteLength, 0, '304 has no body');
  else t.not(again.headers.get('etag'), etag, 'a 200 only when the playlist changed');
  const stale = await get('/test.m3u8', { 'If-None-Match': '"old.1"' });
  t.equal(stale.status, 200, 'an unknown entity tag gets the playlist');
  const head = await get('/test.m3u8', {}, 'HEAD');
  t.equal(head.status, 200);
  t.ok(Number(head.headers.get('content-length')) > 0, 'HEAD tells the length');
  t.equal((await head.arrayBuffer()).byteLength, 0, 'HEAD has no body');
});

t.test('segments: immutable, validators, 304 by ETag and by date, HEAD length equals GET length', async (t) => {
  const name = uris(await (await get('/test.m3u8')).text())[0]!;
  t.match(name, /^test\/[0-9a-z]+-\d+\.ts$/);
  const segment = await fetchBytes(`${relay.baseUrl}/${name}`);
  t.equal(segment.status, 200);
  t.match(segment.headers.get('cache-control'), /^public, max-age=\d+, immutable$/);
  t.equal(segment.headers.get('content-type'), 'video/mp2t');
  t.equal(Number(segment.headers.get('content-length')), segment.body.length);
  t.equal(segment.headers.get('vary'), null);
  t.equal(segment.headers.get('access-control-allow-origin'), '*');
  const byTag = await get(`/${name}`, { 'If-None-Match': segment.headers.get('etag')! });
  t.equal(byTag.status, 304);
  const byDate = await get(`/${name}`, { 'If-Modified-Since': segment.headers.get('last-modified')! });
  t.equal(byDate.status, 304);
  const older = await get(`/${name}`, { 'If-Modified-Since': new Date(Date.now() - 3_600_000).toUTCString() });
  t.equal(older.status, 200);
  const head = await get(`/${name}`, {}, 'HEAD');
  t.equal(Number(head.headers.get('content-length')), segment.body.length);
  const file = join(dir, 'segment.ts');
  await writeFile(file, segment.body);
  const probed = await ffprobe(file, 10);
  t.same([probed.codec_name, probed.width, probed.height], ['h264', 320, 240]);
  const packaged = (relay.relay.outputs.get('test.m3u8') as HlsOutput).packager.segments.find((s) => s.name === name)!;
  t.ok(packaged.frames >= 5, `${packaged.frames} frames in a one-second segment at 10 fps`);
  t.equal(probed.nb_read_frames, String(packaged.frames), 'ffprobe decodes every frame the segment holds');
});

t.test('ffprobe plays the TS playlist over HTTP', async (t) => {
  const probed = await ffprobe(`${relay.baseUrl}/test.m3u8`, 2);
  t.same([probed.codec_name, probed.width, probed.height], ['h264', 320, 240]);
});

t.test('names the packager never gave out are 404 and are not cacheable as media', async (t) => {
  const playlist = await (await get('/test.m3u8')).text();
  const run = /test\/([0-9a-z]+)-/.exec(playlist)![1]!;
  for (const path of ['/test/nope', `/test/${run}-99999999.ts`, '/test/otherrun-1.ts', `/test/${run}-1.2.ts`, `/test/${run}-init1.mp4`,
    `/test/${run}-0.0.m4s`, `/test/${run}-${'9'.repeat(40)}.ts`, '/test/..%2F..%2Fetc%2Fpasswd', '/test/%00.ts']) {
    const response = await get(path);
    t.equal(response.status, 404, path.slice(0, 60));
    t.notMatch(response.headers.get('cache-control') ?? '', /immutable/);
  }
});

t.test('LL-HLS playlist: server control, part info, map, parts, preload hint', async (t) => {
  const playlist = await (await get('/ll.m3u8')).text();
  t.match(playlist, /#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,PART-HOLD-BACK=0\.900\n/);
  t.match(playlist, /#EXT-X-PART-INF:PART-TARGET=0\.300\n/);
  t.match(playlist, /#EXT-X-MAP:URI="ll\/[0-9a-z]+-init1\.mp4"\n/);
  t.match(playlist, /#EXT-X-PART:DURATION=0\.\d{3},URI="ll\/[0-9a-z]+-\d+\.0\.m4s",INDEPENDENT=YES\n/);
  t.match(playlist, /#EXT-X-PRELOAD-HINT:TYPE=PART,URI="ll\/[0-9a-z]+-\d+\.\d+\.m4s"\n$/);
  const parts = [...playlist.matchAll(/#EXT-X-PART:DURATION=([\d.]+)/g)].map((match) => Number(match[1]));
  t.ok(parts.length > 0 && parts.every((duration) => duration <= 0.3), `parts within the target: ${parts.join(' ')}`);
  const init = /#EXT-X-MAP:URI="([^"]+)"/.exec(playlist)![1]!;
  const segment = uris(playlist).at(-1)!;
  const initBytes = await fetchBytes(`${relay.baseUrl}/${init}`);
  const segmentBytes = await fetchBytes(`${relay.baseUrl}/${segment}`);
  t.equal(initBytes.status, 200);
  t.equal(segmentBytes.headers.get('content-type'), 'video/mp4');
  t.match(initBytes.headers.get('cache-control'), /immutable/);
  const file = join(dir, 'll.mp4');
  await writeFile(file, Buffer.concat([initBytes.body, segmentBytes.body]));
  const probed = await ffprobe(file, 10);
  const packaged = (relay.relay.outputs.get('ll.m3u8') as HlsOutput).packager.segments.find((s) => s.name === segment)!;
  t.same([probed.codec_name, probed.width, probed.height, probed.nb_read_frames], ['h264', 320, 240, String(packaged.frames)]);
});

t.test('blocking reload: the next part is answered when it exists; past it is 400; hostile values are 400', async (t) => {
  const playlist = await (await get('/ll.m3u8')).text();
  const hint = /#EXT-X-PRELOAD-HINT:TYPE=PART,URI="ll\/[0-9a-z]+-(\d+)\.(\d+)\.m4s"/.exec(playlist)!;
  const [msn, part] = [Number(hint[1]), Number(hint[2])];
  const started = Date.now();
  const blocked = await get(`/ll.m3u8?_HLS_msn=${msn}&_HLS_part=${part}`);
  const waited = Date.now() - started;
  t.equal(blocked.status, 200);
  const text = await blocked.text();
  const has = text.includes(`-${msn}.${part}.m4s"`) || new RegExp(`-${msn}\\.m4s\\n`).test(text) || text.includes(`-${msn + 1}.0.m4s"`);
  t.ok(has, `the answer holds part ${msn}.${part}:\n${text}`);
  t.ok(waited < 3000, `answered in ${waited} ms (a part lasts at most 300 ms)`);
  t.match(blocked.headers.get('cache-control'), /^public, max-age=\d+$/);
  const hinted = await fetchBytes(`${relay.baseUrl}/ll/${/ll\/([0-9a-z]+)-/.exec(playlist)![1]}-${msn + 1}.0.m4s`);
  t.ok(hinted.status === 200 || hinted.status === 404, 'a part two ahead is not held forever');
  const nextPart = async (): Promise<[number, number]> => {
    const hinted = /#EXT-X-PRELOAD-HINT:TYPE=PART,URI="ll\/[0-9a-z]+-(\d+)\.(\d+)\.m4s"/.exec(await (await get('/ll.m3u8')).text())!;
    return [Number(hinted[1]), Number(hinted[2])];
  };
  // Past the next part, measured from a playlist fetched just before (parts keep coming meanwhile).
  for (const query of [([m]: number[]) => `_HLS_msn=${m! + 5}&_HLS_part=0`, ([m, p]: number[]) => `_HLS_msn=${m}&_HLS_part=${p! + 4}`,
    ([m]: number[]) => `_HLS_msn=${m! + 2}`]) {
    const asked = query(await nextPart());
    t.equal((await get(`/ll.m3u8?${asked}`)).status, 400, asked);
  }
  for (const query of ['_HLS_msn=-1', '_HLS_msn=abc', '_HLS_msn=1e9', `_HLS_msn=${'9'.repeat(30)}`, '_HLS_part=1', '_HLS_msn=1&_HLS_msn=2',
    '_HLS_msn=1&_HLS_part=x', '_HLS_msn=%00', '_HLS_msn=99999999999']) {
    const response = await get(`/ll.m3u8?${query}`);
    t.equal(response.status, 400, query.slice(0, 50));
  }
  const old = await get(`/ll.m3u8?_HLS_msn=0&_HLS_part=0`);
  t.equal(old.status, 200, 'a part already past is answered at once');
});

t.test('a request for the hinted part waits for it and gets the part', async (t) => {
  const playlist = await (await get('/ll.m3u8')).text();
  const hint = /#EXT-X-PRELOAD-HINT:TYPE=PART,URI="([^"]+)"/.exec(playlist)![1]!;
  const part = await fetchBytes(`${relay.baseUrl}/${hint}`);
  if (part.status === 404) {
    // The segment ended at a keyframe before the hinted part: the next part is the new segment's first.
    t.match(await (await get('/ll.m3u8')).text(), /INDEPENDENT=YES/);
    return;
  }
  t.equal(part.status, 200);
  t.equal(part.body.toString('latin1', 4, 8), 'moof', 'a fragment');
});

t.test('origin requests per kind on /stat.json and /metrics', async (t) => {
  const stat = (await (await get('/stat.json')).json()) as { streams: Array<{ name: string; originRequests: Record<string, number> | null }> };
  const ll = stat.streams.find((stream) => stream.name === 'll.m3u8')!.originRequests!;
  const ts = stat.streams.find((stream) => stream.name === 'test.m3u8')!.originRequests!;
  t.ok(ts.playlist! >= 5 && ts.segment! >= 5, JSON.stringify(ts));
  t.equal(ts.part, 1, 'the one part-shaped name asked of the TS stream (a 404) reached the relay');
  t.ok(ll.init! >= 1 && ll.segment! >= 1 && ll.part! >= 1 && ll.playlist! >= 10, JSON.stringify(ll));
  const metrics = await (await get('/metrics')).text();
  t.match(metrics, new RegExp(`relay_stream_origin_requests_total\\{stream="test.m3u8",camera="test",format="hls",kind="segment"\\} ${ts.segment}`));
});
