// Guards: streams started by POST /api/vod/startup served without a token under DefaultAccess token; a reload whose
// blocks collide with a started stream silently skipped them yet applied their Access; /api/vod/ bodies never timed out.
import { copyFile, readFile, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { join } from 'node:path';
import t from 'tap';
import { signViewerToken } from '../../../relay/auth/viewer-token.ts';
import { makeTestMedia } from '../../helpers/media.ts';
import { waitFor } from '../../helpers/probe.ts';
import { startTestRelayFor } from '../../helpers/relay.ts';
import { get } from '../../helpers/request.ts';

const SECRET = 'viewer-token-secret-0123456789abcdef';
const media = await makeTestMedia(4);
await copyFile(join(media.dir, 'movie.mp4'), join(media.dir, 'Movie.mp4'));
const relay = await startTestRelayFor(t, `MediaPath ${media.dir}
ViewerTokenSecret ${SECRET}
DefaultAccess token
VodStreamTimeout 3
<Stream stat.html>
  Format status
</Stream>
`, () => media.cleanup());
const url = (path: string): string => `${relay.baseUrl}${path}`;
const token = (scope: string): string => signViewerToken(SECRET, scope, Math.floor(Date.now() / 1000) + 3600);
/** Status of a GET, reading at most a little of a live body. */
const status = async (path: string): Promise<number> => (await get(url(path), { maxBytes: 1, readMs: 8000 })).status;

async function api(verb: string, body: unknown): Promise<{ status: number; json: any }> {
  const response = await fetch(url(`/api/vod/${verb}`), { method: 'POST', body: JSON.stringify(body) });
  return { status: response.status, json: await response.json() };
}

// This one waits out the 10 s body timeout; the others, one at a time, run beside it on the same relay.
t.jobs = 2;

t.test('an /api/vod/ request whose body never arrives is answered 408 and closed within the body timeout', async (t) => {
  const started = Date.now();
  const answers = await Promise.all(Array.from({ length: 10 }, () => new Promise<{ text: string; closedAfterMs: number }>((resolve, reject) => {
    const socket = connect(relay.port, '127.0.0.1', () => {
      socket.write('POST /api/vod/startup HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 200\r\n\r\n{"uri":');
    });
    let text = '';
    socket.on('data', (chunk) => (text += chunk.toString()));
    socket.on('close', () => resolve({ text, closedAfterMs: Date.now() - started }));
    socket.on('error', reject);
    socket.setTimeout(20_000, () => socket.destroy());
  })));
  for (const answer of answers) {
    t.match(answer.text, /^HTTP\/1\.1 408 /, '408');
    t.match(answer.text, /"code":"REQUEST_TIMEOUT"/);
    t.ok(answer.closedAfterMs >= 9_000 && answer.closedAfterMs < 13_000, `closed after ${answer.closedAfterMs} ms`);
  }
});

t.test('a started stream follows DefaultAccess token on every URL it is served at', async (t) => {
  const started = await api('startup', { uri: 'vod-live://movie.mp4', localStreamName: 'movie', loop: true });
  t.equal(started.status, 200);
  t.equal(started.json.access, 'token');
  for (const path of ['/movie.mjpg', '/movie.jpg', '/movie.m3u8', '/movie.flv', '/player/movie.m3u8', '/movie/anything.ts', '/MOVIE.JPG', '/movie%2Ejpg']) {
    t.equal(await status(path), 403, `${path} without a token`);
  }
  t.equal(await status(`/movie.jpg?token=${token('movie.mjpg')}`), 403, 'another stream\'s token');
  for (const name of ['movie.mjpg', 'movie.jpg', 'movie.m3u8', 'movie.flv']) {
    t.equal(await status(`/${name}?token=${token(name)}`), 200, `/${name} with its token`);
  }
  t.equal(await status(`/player/movie.m3u8?token=${token('movie.m3u8')}`), 200, 'its player page with the token');
  let playlist = '';
  await waitFor(async () => {
    playlist = (await get(url(`/movie.m3u8?token=${token('movie.m3u8')}`))).body.toString();
    return /\.ts/.test(playlist);
  }, 20_000, 'a segment in the playlist');
  const segment = playlist.split('\n').find((line) => /\.ts/.test(line))!.split('?')[0]!;
  t.equal(await status(`/${segment}`), 403, 'a segment without a token');
  t.equal(await status(`/${segment}?token=${token('movie.m3u8')}`), 200, 'the segment with the playlist\'s token');
});

t.test('the startup API may open a stream to everyone, or close one under DefaultAccess public', async (t) => {
  const open = await api('startup', { uri: 'vod-live://silent.mp4', localStreamName: 'open', access: 'public' });
  t.match(open, { status: 200, json: { access: 'public' } });
  t.equal(await status('/open.jpg'), 200, 'access public: no token needed');
  t.match(await api('startup', { uri: 'vod-live://silent.mp4', localStreamName: 'bad', access: 'everyone' }), { status: 400, json: { code: 'BAD_REQUEST' } });
  t.equal((await api('terminate', { localStreamName: 'open' })).status, 200);
});

t.test('a reload naming a started stream is refused, naming the collision, and the running config stays', async (t) => {
  const original = await readFile(relay.configFile, 'utf8');
  await writeFile(relay.configFile, `${original}<Camera cam>\n  Source testsrc://?size=160x120&rate=5\n</Camera>\n<Stream movie.jpg>\n  Feed cam\n  Access public\n</Stream>\n`);
  await t.rejects(relay.reload(), /movie\.jpg: held by stream\(s\) started through \/api\/vod\/ \(movie\)/);
  t.notOk(relay.relay.config.streams.some((stream) => stream.name === 'movie.jpg'), 'the old config keeps running');
  t.notOk(relay.relay.feeds.has('cam'), 'nothing of the refused config was started');
  t.equal(await status('/movie.jpg'), 403, 'the refused block\'s Access public does not open the started stream');
  await writeFile(relay.configFile, original);
});

t.test('VOD token scopes keep letter case, and /player/vod/ pages need a token', async (t) => {
  t.equal(await status(`/vod/Movie.mp4?token=${token('vod/movie.mp4')}`), 403, 'a token for movie.mp4 does not open Movie.mp4');
  t.equal(await status(`/vod/Movie.mp4?token=${token('vod/Movie.mp4')}`), 200, 'a token signed with capitals opens Movie.mp4');
  t.equal(await status(`/vod/movie.mp4?token=${token('vod/movie.mp4')}`), 200);
  t.equal(await status('/player/vod/movie.mp4'), 403, 'the file\'s player page without a token');
  t.equal(await status('/player/vod/no-such-file.mp4'), 403, 'file names cannot be probed through player pages');
  const page = await get(url(`/player/vod/movie.mp4?token=${token('vod/movie.mp4')}`));
  t.equal(page.status, 200, 'the page with the file\'s token');
  const links = [...page.body.toString().matchAll(/data-(?:file|hls)="([^"]+)"/g)].map((match) => match[1]!.replaceAll('&amp;', '&'));
  t.equal(links.length, 2);
  for (const link of links) t.equal(await status(link), 200, `the page's ${link.split('?')[0]} plays with the token it carries`);
});
