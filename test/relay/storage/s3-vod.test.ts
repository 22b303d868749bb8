// Guards playback from a bucket: vod-live://s3/ plays while it downloads, /vod/s3/ serves ranges, bad keys and faults give clear errors.
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import t from 'tap';
import { launchChromium, watchedContext } from '../../helpers/browser.ts';
import { advances } from '../../helpers/player-view.ts';
import { captureStream, decodeLuma, matchedPsnr } from '../../helpers/picture.ts';
import { ffprobe, waitFor } from '../../helpers/probe.ts';
import { startTestRelayFor } from '../../helpers/relay.ts';
import { TestS3Server } from '../../helpers/s3-server.ts';

const run = promisify(execFile);
const ACCESS = 'AKIARELAYTEST0001';
const SECRET = 'relay-test-secret-0f7c2b9e';
const WRONG_SECRET = 'relay-test-wrong-secret-77a1d0';
const dir = await mkdtemp(join(tmpdir(), 'relay-s3-media-'));
const h264 = ['-c:v', 'libx264', '-preset', 'ultrafast', '-g', '10', '-bf', '0', '-pix_fmt', 'yuv420p'];
await run('ffmpeg', ['-v', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc=size=320x240:rate=10:duration=3', ...h264, '-movflags', '+faststart', join(dir, 'movie.mp4')]);
await run('ffmpeg', ['-v', 'error', '-y', '-i', join(dir, 'movie.mp4'), '-c', 'copy', join(dir, 'late.mp4')]);
const movie = await readFile(join(dir, 'movie.mp4'));
const s3 = await TestS3Server.start('media');
s3.addCredentials(ACCESS, SECRET);
await s3.put('clips/movie.mp4', movie);
const late = await readFile(join(dir, 'late.mp4'));
await s3.put('clips/late.mp4', late);
/** A top-level `free` box of `bytes` (with its header), appended to an MP4 it changes the object but not what plays. */
const freeBox = (bytes: number): Buffer => Buffer.concat([Buffer.from([0, 0, 0, 0]), Buffer.from('free', 'latin1'), Buffer.alloc(bytes - 8)]).fill(0, 8);
const sized = (box: Buffer): Buffer => (box.writeUInt32BE(box.length, 0), box);
// The whole-copy cache holds 2.5 copies of late.mp4; late-big.mp4 (its index at the end too) is more than all of it.
const CACHE_BYTES = Math.round(late.length * 2.5);
await s3.put('clips/late-big.mp4', Buffer.concat([late, sized(freeBox(CACHE_BYTES))]));
await s3.put('clips/late-copy.mp4', late);
await s3.put('clips/doomed.mp4', movie);
await s3.put('clips/denied.mp4', movie);
/** `mp4` (moov first, one track) with a `free` box of `pad` bytes inside its moov: a 10 MB index, the chunk offsets moved. */
function fatMoov(mp4: Buffer, pad: number): Buffer {
  const moovAt = mp4.indexOf('moov', 0, 'latin1') - 4;
  const moovSize = mp4.readUInt32BE(moovAt);
  const moov = Buffer.from(mp4.subarray(moovAt, moovAt + moovSize));
  const stco = moov.indexOf('stco', 0, 'latin1') - 4;
  const entries = moov.readUInt32BE(stco + 12);
  for (let i = 0; i < entries; i++) moov.writeUInt32BE(moov.readUInt32BE(stco + 16 + i * 4) + pad + 8, stco + 16 + i * 4);
  moov.writeUInt32BE(moovSize + pad + 8, 0);
  const free = Buffer.alloc(pad + 8);
  free.writeUInt32BE(pad + 8, 0);
  free.write('free', 4, 'latin1');
  return Buffer.concat([mp4.subarray(0, moovAt), moov, free, mp4.subarray(moovAt + moovSize)]);
}
await s3.put('clips/fat-moov.mp4', fatMoov(movie, 10 * 2 ** 20));
// A moov that says it is 100 MB (a 64-bit size) in an 8 MiB object: past the limit the relay reads before playing.
const hugeHeader = Buffer.alloc(16);
hugeHeader.writeUInt32BE(1, 0);
hugeHeader.write('moov', 4, 'latin1');
hugeHeader.writeBigUInt64BE(100_000_000n, 8);
const ftypSize = movie.readUInt32BE(0);
await s3.put('clips/huge-moov.mp4', Buffer.concat([movie.subarray(0, ftypSize), hugeHeader, Buffer.alloc(8 * 2 ** 20)]));
const big = Buffer.alloc(4 * 2 ** 20, 0x5a);
await s3.put('clips/big.bin', big);
await s3.put('clips/notes.txt', Buffer.from('not a video\n'.repeat(100)));

const relay = await startTestRelayFor(t, `
# The FLV player page's own player, not WebRTC first.
WebRTC no
<Storage media>
  Endpoint ${s3.endpoint}
  Bucket media
  AccessKey ${ACCESS}
  SecretKey ${SECRET}
</Storage>
<Camera film>
  Source vod-live://s3/media/clips/movie.mp4
  Loop yes
  OnDemand no
</Camera>
<Stream film.flv>
  Feed film
  VideoCodec copy
</Stream>
<Stream film.m3u8>
  Feed film
  VideoCodec copy
  HLSSegmentTime 1
</Stream>
<Storage wrong>
  Endpoint ${s3.endpoint}
  Bucket media
  AccessKey ${ACCESS}
  SecretKey ${WRONG_SECRET}
</Storage>
<Storage cached>
  Endpoint ${s3.endpoint}
  Bucket media
  AccessKey ${ACCESS}
  SecretKey ${SECRET}
  CachePath ${join(dir, 'cache')}
  CacheMaxSize ${CACHE_BYTES}
</Storage>
<Camera doomed>
  Source vod-live://s3/media/clips/doomed.mp4
  Loop yes
  OnDemand no
</Camera>
<Camera denied>
  Source vod-live://s3/wrong/clips/denied.mp4
  OnDemand no
</Camera>
<Stream stat.html>
  Format status
</Stream>
`, () => s3.close(), () => rm(dir, { recursive: true, force: true }));

const post = async (verb: string, body: object): Promise<{ status: number; json: { code?: string; message?: string } }> => {
  const response = await fetch(`${relay.baseUrl}/api/vod/${verb}`, { method: 'POST', body: JSON.stringify(body) });
  return { status: response.status, json: (await response.json()) as { code?: string; message?: string } };
};
const cameraState = async (name: string): Promise<{ state: string; lastError: { message: string } | null }> => {
  const stat = (await (await fetch(`${relay.baseUrl}/stat.json`)).json()) as { cameras: Array<{ name: string; state: string; lastError: { message: string } | null }> };
  return stat.cameras.find((camera) => camera.name === name)!;
};
const filmState = (): ReturnType<typeof cameraState> => cameraState('film');

// These mostly wait (for a camera, a browser, a slow reader), each on its own keys, streams and storage: they run side
// by side.
t.jobs = 5;
const sideBySide = [
  t.test('vod-live://s3 plays as FLV and HLS, the picture that of the file, read by ranges', async (t) => {
    await waitFor(async () => (await filmState()).state === 'live', 15_000, 'the bucket camera live');
    t.match(await ffprobe(`${relay.baseUrl}/film.flv`, 2), { codec_name: 'h264', width: 320, height: 240 });
    t.match(await ffprobe(`${relay.baseUrl}/film.m3u8`, 2), { codec_name: 'h264', width: 320, height: 240 });
    const sources = await decodeLuma(movie, 'mp4', 320, 240);
    const decoded = await decodeLuma(await captureStream(`${relay.baseUrl}/film.flv`, 2500), 'flv', 320, 240);
    const psnr = matchedPsnr(decoded, sources, 320).sort((a, b) => a - b);
    t.ok(psnr[Math.floor(psnr.length / 2)]! > 30, `median PSNR against the file ${psnr[Math.floor(psnr.length / 2)]?.toFixed(1)} dB`);
    const ranged = s3.requests.filter((r) => r.method === 'GET' && r.url.includes('clips/movie.mp4'));
    t.ok(ranged.length > 0 && ranged.every((r) => /^bytes=\d+-\d+$/.test(r.range ?? '')), 'every read of the object is a ranged GET');
  }),

  t.test('Chromium plays the bucket stream by the FLV player linked from /', async (t) => {
    await waitFor(async () => (await filmState()).state === 'live', 15_000, 'the bucket camera live');
    const browser = await launchChromium();
    t.teardown(() => browser.close());
    const { context, problems } = await watchedContext(browser);
    const page = await context.newPage();
    await page.goto(`${relay.baseUrl}/`);
    const linked = await page.getAttribute('section[data-camera="film"] a[href="/player/film.flv"]', 'href');
    t.equal(linked, '/player/film.flv', 'the index links the FLV player of the bucket stream');
    await page.goto(`${relay.baseUrl}${linked}`);
    const played = await advances(page, 2, 20_000);
    t.match(played, { engine: 'mpegts', videoWidth: 320, videoHeight: 240 }, 'played by mpegts.js at the file\'s size');
    t.same(problems, [], 'no console errors');
  }),

  t.test('a key deleted while it plays and a wrong secret key: a clear line on /stat.html, bounded retries, no crash', async (t) => {
    await waitFor(async () => (await cameraState('doomed')).state === 'live', 15_000, 'the doomed camera live');
    await s3.remove('clips/doomed.mp4');
    // The 3 s file loops: its next pass reads the object again and finds it gone.
    await waitFor(async () => /File not found/.test((await cameraState('doomed')).lastError?.message ?? ''), 15_000, 'the deletion on /stat.json');
    await waitFor(async () => /refused the credentials/.test((await cameraState('denied')).lastError?.message ?? ''), 15_000, 'the refused key on /stat.json');
    t.match(await cameraState('doomed'), { state: /^(retrying|starting)$/, lastError: { message: /File not found: the object was deleted or replaced while playing/ } });
    // Guards refused credentials read as an outage (CONNECT): they read AUTH, as a camera's wrong password does.
    t.match(await cameraState('denied'), { state: /^(retrying|starting)$/, lastError: { message: /^AUTH: storage wrong: the bucket refused the credentials \(HTTP 403\): check AccessKey and the secret key$/ } });
    const page = await (await fetch(`${relay.baseUrl}/stat.html`)).text();
    t.match(page, /File not found/, '/stat.html shows the deleted key');
    t.match(page, /AUTH: storage wrong: the bucket refused the credentials \(HTTP 403\): check AccessKey and the secret key/, '/stat.html shows the refused key');
    t.notMatch(page, WRONG_SECRET, 'the wrong secret is not shown either');
    // Retries back off (the camera's jittered backoff): a few requests for each key over 4 s, never a tight loop.
    const before = s3.requests.length;
    await new Promise((resolve) => setTimeout(resolve, 4000));
    const later = s3.requests.slice(before);
    const doomed = later.filter((r) => r.url.includes('clips/doomed.mp4')).length;
    const denied = later.filter((r) => r.url.includes('clips/denied.mp4')).length;
    t.ok(doomed <= 8 && denied <= 8, `bucket requests in 4 s: ${doomed} for the deleted key, ${denied} with the wrong secret`);
    // The download and the API say the same, as a 502 without Retry-After (asking again soon does not help).
    const refusal = { code: 'STORAGE_AUTH', message: 'storage wrong: the bucket refused the credentials (HTTP 403): check AccessKey and the secret key' };
    const download = await fetch(`${relay.baseUrl}/vod/s3/wrong/clips/denied.mp4`);
    t.same({ status: download.status, retryAfter: download.headers.get('retry-after'), json: await download.json() }, { status: 502, retryAfter: null, json: refusal });
    t.same(await post('startup', { uri: 'vod-live://s3/wrong/clips/denied.mp4', localStreamName: 'refused' }), { status: 502, json: refusal });
    t.equal((await fetch(`${relay.baseUrl}/stat.json`)).status, 200, 'the relay answers');
  }),

  // Guards: a download read slowly lost its end ("other side closed"): Node's keep-alive timer cut the socket 5 s after the body was handed over.
  t.test('a ranged download read slowly arrives whole', async (t) => {
    const response = await fetch(`${relay.baseUrl}/vod/s3/media/clips/big.bin`, { headers: { Range: `bytes=1-${big.length - 1}` } });
    t.equal(response.status, 206);
    const parts: Buffer[] = [];
    let got = 0;
    const began = Date.now();
    try {
      for await (const chunk of response.body! as unknown as AsyncIterable<Uint8Array>) {
        parts.push(Buffer.from(chunk));
        got += chunk.length;
        // 400 kB/s: the relay hands the whole body to the socket seconds before this reader has taken it.
        const ahead = (got / 400_000) * 1000 - (Date.now() - began);
        if (ahead > 0) await new Promise((resolve) => setTimeout(resolve, ahead));
      }
    } catch (error) {
      t.fail(`cut after ${got} of ${big.length - 1} bytes: ${((error as Error).cause as Error | undefined)?.message ?? (error as Error).message}`);
    }
    t.ok(Buffer.concat(parts).equals(big.subarray(1)), `all ${big.length - 1} bytes, in ${Date.now() - began} ms`);
  }),

  t.test('CachePath: an MP4 with its index at the end is fetched whole once, played from the copy, bounded by CacheMaxSize', async (t) => {
    // Guards the opt-in whole-object cache: one GET per object version however many viewers, files only under CachePath.
    const wholeGets = (key: string): number => s3.requests.filter((r) => r.method === 'GET' && r.url.split('?')[0]!.endsWith(`/${key}`) && r.range?.startsWith('bytes=0-') && !r.range.endsWith('-15')).length;
    const [first, second] = await Promise.all(['copy1', 'copy2'].map((name) => post('startup', { uri: 'vod-live://s3/cached/clips/late-copy.mp4', localStreamName: name, loop: true })));
    t.same([first!.status, second!.status], [200, 200], `both start: ${first!.json.message ?? ''} ${second!.json.message ?? ''}`);
    t.match(await ffprobe(`${relay.baseUrl}/copy1.flv`, 1), { codec_name: 'h264', width: 320, height: 240 }, 'the relay plays the copy');
    t.equal(wholeGets('clips/late-copy.mp4'), 1, 'one GET of the whole object for both streams (the start probes the copy)');
    const files = async (): Promise<string[]> => (await readdir(join(dir, 'cache'))).sort();
    t.match(await files(), [/^[0-9a-f]{64}\.copy$/], 'one copy, named by a hash');
    for (const name of ['copy1', 'copy2']) await post('terminate', { localStreamName: name });
    // The object changes (another ETag): the next start downloads it again, and the old copy goes.
    await s3.put('clips/late-copy.mp4', Buffer.concat([late, sized(freeBox(64))]));
    const again = await post('startup', { uri: 'vod-live://s3/cached/clips/late-copy.mp4', localStreamName: 'copy3', loop: true });
    t.equal(again.status, 200, `the new version starts: ${again.json.message ?? ''}`);
    t.equal(wholeGets('clips/late-copy.mp4'), 2, 'the changed object was read again, whole');
    t.equal((await files()).length, 1, 'the copy of the old version deleted');
    const big = await post('startup', { uri: 'vod-live://s3/cached/clips/late-big.mp4', localStreamName: 'toobig' });
    t.equal(big.status, 400);
    t.match(big.json.message, `is too large to fetch whole first (storage cached: the object is ${late.length + CACHE_BYTES} bytes, more than the ${CACHE_BYTES} of CacheMaxSize); raise CacheMaxSize or move the index to the start with: ffmpeg -i in.mp4 -c copy -movflags +faststart out.mp4`);
    t.ok(s3.bytesServed('clips/late-big.mp4') < 1024, `the object larger than the cap was not read (${s3.bytesServed('clips/late-big.mp4')} bytes)`);
    t.equal((await files()).length, 1, 'nothing else in the cache');
    await post('terminate', { localStreamName: 'copy3' });
  }),
];

await Promise.all(sideBySide);

// One at a time from here: the 10 MB index keeps the relay and the bucket busy (beside the others its stream took more
// than ffprobe's 10 s to begin), and the tests after it put faults on movie.mp4 (the film camera's object, whose reads
// the first test checks), count every 503 answer, and stop the bucket.
t.jobs = 1;

t.test('a 10 MB moov plays from the bucket; a moov past the read limit is refused clearly, its object not read', async (t) => {
  // Guards vod-live://s3 against MP4 files with huge indexes: memory bounded by the moov read limit, a clear error past it.
  const fat = await post('startup', { uri: 'vod-live://s3/media/clips/fat-moov.mp4', localStreamName: 'fat' });
  t.equal(fat.status, 200, `a 10 MB moov starts: ${fat.json.message ?? ''}`);
  t.match(await ffprobe(`${relay.baseUrl}/fat.flv`, 1), { codec_name: 'h264', width: 320, height: 240 }, 'and plays');
  await post('terminate', { localStreamName: 'fat' });
  const huge = await post('startup', { uri: 'vod-live://s3/media/clips/huge-moov.mp4', localStreamName: 'huge' });
  t.same(huge, { status: 400, json: { code: 'NOT_VIDEO', message: "The MP4 file's index (moov) is 100000000 bytes, more than the 67108864 the relay reads before playing" } });
  t.ok(s3.bytesServed('clips/huge-moov.mp4') < 2 ** 20, `the 8 MiB object was not read (${s3.bytesServed('clips/huge-moov.mp4')} bytes)`);
  t.ok(relay.logs.every((line) => !/huge-moov.*(TypeError|RangeError)/.test(line)), 'no crash in the log');
});

t.test('/vod/s3/ downloads with Range; missing keys, hostile keys and unknown storages are refused clearly', async (t) => {
  const whole = await fetch(`${relay.baseUrl}/vod/s3/media/clips/movie.mp4`);
  t.equal(whole.status, 200);
  t.ok(Buffer.from(await whole.arrayBuffer()).equals(movie), 'the whole object');
  // A body cut mid-way, then a slow drip: the range is read again (from the last byte the relay got), and arrives whole.
  const before = s3.requests.length;
  const half = Math.floor(movie.length / 2);
  await s3.put('clips/copy.mp4', movie);
  s3.fault({ kind: 'cut', afterBytes: half, count: 1, method: 'GET', url: 'clips/copy.mp4' });
  s3.fault({ kind: 'drip', bytesPerSecond: 400_000, count: 1, method: 'GET', url: 'clips/copy.mp4' });
  const resumed = await fetch(`${relay.baseUrl}/vod/s3/media/clips/copy.mp4`);
  t.ok(Buffer.from(await resumed.arrayBuffer()).equals(movie), 'the whole object despite the cut');
  const gets = s3.requests.slice(before).filter((r) => r.method === 'GET' && r.url.includes('clips/copy.mp4'));
  t.ok(gets.length >= 2 && gets[0]!.bytes < movie.length, `the cut answer (${gets[0]?.bytes} of ${movie.length} bytes) was read again (${gets.length} GETs)`);
  const part = await fetch(`${relay.baseUrl}/vod/s3/media/clips/movie.mp4`, { headers: { Range: 'bytes=100-1099' } });
  t.equal(part.status, 206);
  t.equal(part.headers.get('content-range'), `bytes 100-1099/${movie.length}`);
  t.ok(Buffer.from(await part.arrayBuffer()).equals(movie.subarray(100, 1100)), 'the range');
  const outside = await fetch(`${relay.baseUrl}/vod/s3/media/clips/movie.mp4`, { headers: { Range: `bytes=${movie.length + 10}-` } });
  t.equal(outside.status, 416);
  await outside.arrayBuffer();
  const missing = await fetch(`${relay.baseUrl}/vod/s3/media/clips/nothing.mp4`);
  t.equal(missing.status, 404);
  t.same(await missing.json(), { code: 'FILE_NOT_FOUND', message: 'File not found' });
  const hostile = ['s3/media/clips/../clips/movie.mp4', 's3/media/%2e%2e/x.mp4', 's3/media/%2Fetc/passwd', 's3/media/a%00b.mp4', `s3/media/${'k'.repeat(2000)}.mp4`, 's3/elsewhere/clips/movie.mp4'];
  for (const name of hostile) {
    const answer = await post('startup', { uri: `vod-live://${name}`, localStreamName: 'hostile' });
    t.equal(answer.status, 400, `${name.slice(0, 40)} refused: ${answer.json.message}`);
  }
  t.match((await post('startup', { uri: 'vod-live://s3/elsewhere/clips/movie.mp4', localStreamName: 'x' })).json.message, 'No storage named "elsewhere" (storages: media, wrong, cached)');
  t.same(await post('startup', { uri: 'vod-live://s3/media/clips/gone.mp4', localStreamName: 'gone' }), { status: 404, json: { code: 'FILE_NOT_FOUND', message: 'File not found' } });
  const late = await post('startup', { uri: 'vod-live://s3/media/clips/late.mp4', localStreamName: 'late' });
  t.equal(late.status, 400);
  t.match(late.json.message, 'ffmpeg -i in.mp4 -c copy -movflags +faststart out.mp4', 'moov at the end: the error says how to fix the file');
  t.equal((await post('startup', { uri: 'vod-live://s3/media/clips/notes.txt', localStreamName: 'notes' })).json.code, 'NOT_VIDEO');
  // A bucket that answers garbage to every attempt: a clear 503, never a crash.
  s3.fault({ kind: 'garbage', count: 4, method: 'HEAD', url: 'clips/movie.mp4' });
  const garbage = await post('startup', { uri: 'vod-live://s3/media/clips/movie.mp4', localStreamName: 'garbage' });
  s3.clearFaults();
  t.same(garbage, { status: 503, json: { code: 'STORAGE_UNAVAILABLE', message: 'storage media: the server answered HTTP 500 (Unknown)' } });
});

t.test('503 SlowDown is retried; a bucket that stops mid-download shows on /stat.json and is read again', async (t) => {
  s3.fault({ kind: 'status', status: 503, count: 2, method: 'HEAD', url: 'clips/movie.mp4' });
  const started = await post('startup', { uri: 'vod-live://s3/media/clips/movie.mp4', localStreamName: 'again' });
  t.equal(started.status, 200, 'started after two SlowDown answers');
  t.equal(s3.requests.filter((r) => r.status === 503).length, 2, 'the two SlowDown answers were seen');
  await post('terminate', { localStreamName: 'again' });
  s3.stop();
  await waitFor(async () => /storage media/.test((await filmState()).lastError?.message ?? ''), 20_000, 'the outage on /stat.json');
  t.ok(relay.logs.some((line) => /storage media: .*reading again from where it stopped/.test(line)), 'retries are logged');
  const storage = ((await (await fetch(`${relay.baseUrl}/stat.json`)).json()) as { storage: Array<{ name: string; state: string; failures: number; lastError: { message: string } | null }> }).storage;
  t.match(storage.find((bucket) => bucket.name === 'media'), { state: 'failing', lastError: { message: /storage media: unreachable/ } }, 'the bucket itself failing on /stat.json');
  t.match(await (await fetch(`${relay.baseUrl}/metrics`)).text(), /^relay_storage_up\{storage="media",bucket="[^"]+"\} 0$/m, 'and down on /metrics');
  s3.resume();
  await waitFor(async () => (await filmState()).state === 'live', 30_000, 'the camera live again');
  t.match(await ffprobe(`${relay.baseUrl}/film.flv`, 1), { codec_name: 'h264' });
});

t.test('the keys appear nowhere: not in /stat.json, /stat.html or the log', async (t) => {
  for (const path of ['/stat.json', '/stat.html']) {
    const text = await (await fetch(`${relay.baseUrl}${path}`)).text();
    t.notMatch(text, SECRET, path);
    t.notMatch(text, ACCESS, path);
    t.notMatch(text, WRONG_SECRET, path);
  }
  t.notOk(relay.logs.some((line) => line.includes(SECRET) || line.includes(ACCESS) || line.includes(WRONG_SECRET)), 'the log');
});
