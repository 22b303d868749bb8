import t from 'tap';
import { parseConfig } from '../../../conf/parse.ts';
import { classifyPath } from '../../../relay/auth/surfaces.ts';

const { config } = parseConfig(`ViewerTokenSecret ${'s'.repeat(32)}
<Camera cam>
  Source testsrc://
</Camera>
<Stream door.flv>
  Feed cam
  Access token
</Stream>
<Stream door.m3u8>
  Feed cam
  Access token
</Stream>
<Stream open.jpg>
  Feed cam
</Stream>
<Stream stat.html>
  Format status
</Stream>
<Redirect index.html>
  URL /
</Redirect>
`, 'relay.conf', { schemes: ['testsrc'] });

const plane = (path: string): string => {
  const surface = classifyPath(config, path);
  return surface.plane === 'viewer' ? `viewer ${surface.scope} ${surface.access}` : surface.plane;
};

t.test('each path belongs to its plane', async (t) => {
  const expected: Record<string, string> = {
    '/': 'admin',
    '/stat.html': 'admin',
    '/stat.json': 'admin',
    '/metrics': 'admin',
    '/api/vod/start': 'admin',
    '/api': 'admin',
    '/record/cam/2030-01-01.mp4': 'admin',
    '/admin': 'admin',
    '/wall': 'admin',
    '/wall/2': 'admin',
    '/api/source': 'public',
    '/api/source/publish': 'public',
    '/assets/hls.min.js': 'public',
    '/index.html': 'public',
    '/nothing-here': 'public',
    '/door.flv': 'viewer door.flv token',
    '/door.m3u8': 'viewer door.m3u8 token',
    '/door/seg000001.ts': 'viewer door.m3u8 token',
    '/door/parts/abc.m4s': 'viewer door.m3u8 token',
    '/player/door.m3u8': 'viewer door.m3u8 token',
    '/open.jpg': 'viewer open.jpg public',
    '/vod/movie.mp4': 'viewer vod/movie.mp4 public',
    '/vod/movie/seg1.ts': 'viewer vod/movie public',
    '/live/pushed.m3u8': 'viewer live/pushed.m3u8 public',
  };
  for (const [path, want] of Object.entries(expected)) t.equal(plane(path), want, path);
});

t.test('spellings a router may still match are as protected as the plain path', async (t) => {
  for (const path of ['/STAT.JSON', '/Stat.Html', '/stat%2Ejson', '/stat%2ehtml', '//stat.json', '/stat.json/', '/stat.json//', '/%2Fstat.json', '/API/vod', '/api%2Fvod', '/Metrics']) {
    t.equal(plane(path), 'admin', path);
  }
  for (const path of ['/DOOR.FLV', '/door%2Eflv', '/door.flv/', '//door.flv', '/Door/seg000001.ts', '/door%2Fseg000001.ts']) t.match(plane(path), /^viewer door/, path);
  t.equal(plane('/api/source/../../stat.json'), 'admin', 'dot segments do not escape to an open prefix');
  t.equal(plane('/%E0%A4%A'), 'admin', 'a path that does not decode is refused');
});

// Guards: started streams were unknown to the classifier (served without a token), VOD scopes were lower-cased, and
// /player/vod/FILE was open to all.
t.test('started streams, VOD file scopes and the edge check are classified by the same rules', async (t) => {
  const started = [{ ...config.streams.find((stream) => stream.name === 'door.m3u8')!, name: 'film.m3u8', access: undefined }];
  const classify = (path: string): string => {
    const surface = classifyPath({ ...config, security: { ...config.security, defaultAccess: 'token' } }, path, started);
    return surface.plane === 'viewer' ? `viewer ${surface.scope} ${surface.access}` : surface.plane;
  };
  t.equal(classify('/film.m3u8'), 'viewer film.m3u8 token', 'a started stream follows DefaultAccess');
  t.equal(classify('/Film/seg1.ts'), 'viewer film.m3u8 token', 'and its segments');
  t.equal(classify('/player/film.m3u8'), 'viewer film.m3u8 token', 'and its player page');
  t.equal(plane('/film.m3u8'), 'public', 'unknown without the started list');
  t.equal(plane('/vod/Movie.mp4'), 'viewer vod/Movie.mp4 public', 'a file scope keeps its letter case');
  t.equal(plane('/vod/Movie%2Emp4'), 'viewer vod/Movie.mp4 public');
  t.equal(plane('/vod/Movie.mp4.m3u8/seg00001.ts'), 'viewer vod/Movie.mp4 public', 'its HLS package shares its scope');
  t.equal(plane('/player/vod/Movie.mp4'), 'viewer vod/Movie.mp4 public', 'and its player page');
  t.equal(plane('/api/viewer-check'), 'public', 'the edge check checks tokens itself');
});
