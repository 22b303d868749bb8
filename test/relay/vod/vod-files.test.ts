import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFile, symlink, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import t from 'tap';
import { makeTestMedia } from '../../helpers/media.ts';
import { startTestRelay } from '../../helpers/relay.ts';

const run = promisify(execFile);
const media = await makeTestMedia(4);
const secret = join(dirname(media.dir), `${media.dir.split('/').pop()}-secret.txt`);
await writeFile(secret, 'TOP-SECRET outside the media directory');
await symlink(secret, join(media.dir, 'escape.mp4'));
await writeFile(join(media.dir, 'big.bin'), randomBytes(24 * 1024 * 1024));
const relay = await startTestRelay(`MediaPath ${media.dir}\n`);
t.teardown(async () => {
  await relay.stop();
  await media.cleanup();
  await import('node:fs/promises').then((fs) => fs.rm(secret, { force: true }));
});
const movie = await readFile(join(media.dir, 'movie.mp4'));

async function ffprobeDuration(url: string): Promise<number> {
  const { stdout } = await run('ffprobe', ['-v', 'error', '-show_entries', 'format=duration', '-of', 'csv=p=0', url], { timeout: 30_000 });
  return Number(stdout.trim());
}

/** Sends a request line exactly as written (no client normalises the path) and returns the raw answer. */
function rawGet(path: string, headers = ''): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(relay.port, '127.0.0.1', () => socket.write(`GET ${path} HTTP/1.1\r\nHost: x\r\n${headers}Connection: close\r\n\r\n`));
    let answer = '';
    socket.on('data', (chunk) => (answer += chunk.toString('latin1')));
    socket.on('end', () => resolve(answer));
    socket.on('error', reject);
  });
}

t.test('ffprobe reads /vod/FILE with the file\'s duration', async (t) => {
  const duration = await ffprobeDuration(`${relay.baseUrl}/vod/movie.mp4`);
  t.ok(Math.abs(duration - 4) < 0.3, `duration ${duration} s`);
});

t.test('Range requests get 206 with exactly the bytes asked for', async (t) => {
  const middle = await fetch(`${relay.baseUrl}/vod/movie.mp4`, { headers: { range: 'bytes=100-1099' } });
  t.equal(middle.status, 206);
  t.equal(middle.headers.get('content-range'), `bytes 100-1099/${movie.length}`);
  t.equal(middle.headers.get('accept-ranges'), 'bytes');
  t.same(Buffer.from(await middle.arrayBuffer()), movie.subarray(100, 1100));
  const suffix = await fetch(`${relay.baseUrl}/vod/movie.mp4`, { headers: { range: 'bytes=-50' } });
  t.same(Buffer.from(await suffix.arrayBuffer()), movie.subarray(movie.length - 50));
  const open = await fetch(`${relay.baseUrl}/vod/movie.mp4`, { headers: { range: `bytes=${movie.length - 10}-` } });
  t.same(Buffer.from(await open.arrayBuffer()), movie.subarray(movie.length - 10));
});

t.test('an unsatisfiable range is 416 with a JSON code; a malformed one gets the whole file', async (t) => {
  const beyond = await fetch(`${relay.baseUrl}/vod/movie.mp4`, { headers: { range: `bytes=${movie.length + 10}-` } });
  t.equal(beyond.status, 416);
  t.equal(beyond.headers.get('content-range'), `bytes */${movie.length}`);
  t.same(await beyond.json(), { code: 'RANGE_NOT_SATISFIABLE', message: 'The requested range is outside the file' });
  const garbage = await fetch(`${relay.baseUrl}/vod/movie.mp4`, { headers: { range: 'bytes=zz-' } });
  t.equal(garbage.status, 200);
  t.equal((await garbage.arrayBuffer()).byteLength, movie.length);
});

t.test('validators and caching: ETag, Last-Modified, 304s, Cache-Control; HEAD has the headers and no body', async (t) => {
  const whole = await fetch(`${relay.baseUrl}/vod/movie.mp4`);
  t.equal(whole.status, 200);
  t.equal(whole.headers.get('content-type'), 'video/mp4');
  t.match(whole.headers.get('cache-control'), /public, max-age=3600/);
  const etag = whole.headers.get('etag')!;
  const modified = whole.headers.get('last-modified')!;
  t.ok(etag && modified);
  t.same(Buffer.from(await whole.arrayBuffer()), movie);
  // fetch() adds Cache-Control: no-cache to conditional requests, as its spec says: a browser's revalidation is sent raw.
  t.match(await rawGet('/vod/movie.mp4', `If-None-Match: ${etag}\r\n`), /^HTTP\/1\.1 304 /);
  t.match(await rawGet('/vod/movie.mp4', `If-Modified-Since: ${modified}\r\n`), /^HTTP\/1\.1 304 /);
  t.match(await rawGet('/vod/movie.mp4', 'If-None-Match: "another"\r\n'), /^HTTP\/1\.1 200 /);
  const stale = await fetch(`${relay.baseUrl}/vod/movie.mp4`, { headers: { range: 'bytes=0-9', 'if-range': '"other"' } });
  t.equal(stale.status, 200, 'If-Range with another version sends the whole file');
  await stale.arrayBuffer();
  const head = await fetch(`${relay.baseUrl}/vod/movie.mp4`, { method: 'HEAD' });
  t.equal(head.status, 200);
  t.equal(head.headers.get('content-length'), String(movie.length));
  t.equal((await head.arrayBuffer()).byteLength, 0);
});

t.test('a missing file is 404 {"code":"FILE_NOT_FOUND","message":"File not found"}', async (t) => {
  for (const path of ['/vod/missing.mp4', '/vod/missing.mp4.m3u8', '/player/vod/missing.mp4', '/vod/missing.mp4.m3u8/seg00000.ts']) {
    const response = await fetch(`${relay.baseUrl}${path}`);
    t.equal(response.status, 404, path);
    t.equal(await response.text(), '{"code":"FILE_NOT_FOUND","message":"File not found"}', path);
  }
});

t.test('path traversal in every spelling never serves a file outside the media directory', async (t) => {
  const attempts = [
    '/vod/../' + secret.split('/').pop(), '/vod/%2e%2e/' + secret.split('/').pop(), '/vod/..%2f' + secret.split('/').pop(),
    '/vod/%2E%2E%2F' + secret.split('/').pop(), `/vod/${encodeURIComponent(secret)}`, `/vod/${secret}`, '/vod/movie.mp4%00',
    '/vod/..%5c' + secret.split('/').pop(), '/vod/escape.mp4', '/vod/escape.mp4.m3u8', '/player/vod/escape.mp4',
    '/vod/%2e%2e%2f%2e%2e%2f%2e%2e%2fetc%2fpasswd', '/vod/....//....//etc/passwd', '/vod/%252e%252e/etc/passwd',
  ];
  for (const path of attempts) {
    const answer = await rawGet(path);
    const status = Number(answer.split(' ')[1]);
    t.ok(status >= 400 && status < 500, `${path}: ${status}`);
    t.notMatch(answer, /TOP-SECRET|root:/, `${path}: nothing of the file`);
    t.notMatch(answer, media.dir, `${path}: no path of the machine`);
    t.match(answer, /"code":"(BAD_PATH|FORBIDDEN_PATH|FILE_NOT_FOUND)"/, `${path}: a JSON code`);
  }
});

t.test('a viewer leaving mid-download is not an error, and the next download works', async (t) => {
  const answer = await new Promise<number>((resolve) => {
    let received = 0;
    const socket = connect(relay.port, '127.0.0.1', () => socket.write('GET /vod/big.bin HTTP/1.1\r\nHost: x\r\n\r\n'));
    socket.on('data', (chunk) => {
      received += chunk.length;
      if (received > 256 * 1024) {
        socket.destroy();
        resolve(received);
      }
    });
  });
  t.ok(answer > 0);
  const again = await fetch(`${relay.baseUrl}/vod/movie.mp4`);
  t.same(Buffer.from(await again.arrayBuffer()), movie);
  t.same(relay.logs.filter((line) => / (error|warn) /.test(line)), [], 'no error or warning logged');
});

t.test('/vod/FILE.m3u8 is an HLS VOD package made once, shared by concurrent first requests, that ffprobe plays', async (t) => {
  const playlists = await Promise.all(Array.from({ length: 5 }, () => fetch(`${relay.baseUrl}/vod/movie.mp4.m3u8`).then((r) => r.text())));
  const playlist = playlists[0]!;
  t.ok(playlists.every((text) => text === playlist), 'five concurrent requests, one answer');
  t.match(playlist, /#EXT-X-PLAYLIST-TYPE:VOD/);
  t.match(playlist, /#EXT-X-ENDLIST/);
  t.match(playlist, /^movie\.mp4\.m3u8\/seg00000\.ts$/m);
  const duration = await ffprobeDuration(`${relay.baseUrl}/vod/movie.mp4.m3u8`);
  t.ok(Math.abs(duration - 4) < 0.5, `ffprobe: ${duration} s`);
  const segment = await fetch(`${relay.baseUrl}/vod/movie.mp4.m3u8/seg00000.ts`);
  t.equal(segment.status, 200);
  t.match(segment.headers.get('cache-control'), /max-age=3600/);
  t.equal((await segment.arrayBuffer()).byteLength % 188, 0, 'MPEG-TS packets');
  t.equal(relay.logs.filter((line) => line.includes('packaged movie.mp4 for HLS')).length, 1, 'packaged exactly once');
  const jpeg = await fetch(`${relay.baseUrl}/vod/movie.mjpeg.m3u8`);
  t.equal(jpeg.status, 415);
  t.same(await jpeg.json(), { code: 'UNSUPPORTED_MEDIA_TYPE', message: 'Only H.264 files are packaged for HLS' });
  const notVideo = await fetch(`${relay.baseUrl}/vod/notvideo.mp4.m3u8`);
  t.equal((await notVideo.json()).code, 'NOT_VIDEO');
  t.equal((await fetch(`${relay.baseUrl}/vod/movie.mp4.m3u8/seg99999.ts`)).status, 404);
  t.equal((await fetch(`${relay.baseUrl}/vod/movie.mp4.m3u8/index.m3u8`)).status, 404);
});

t.test('the player page for a file links the file and its playlist', async (t) => {
  const page = await fetch(`${relay.baseUrl}/player/vod/movie.mp4`);
  t.equal(page.status, 200);
  const text = await page.text();
  t.match(text, /data-file="\/vod\/movie\.mp4"/);
  t.match(text, /data-hls="\/vod\/movie\.mp4\.m3u8"/);
  t.match(text, /\/assets\/hls\.min\.js/);
  t.equal((await fetch(`${relay.baseUrl}/assets/vod.js`)).status, 200);
});
