import { copyFile, mkdir, mkdtemp, readdir, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { evictPackages } from '../../../relay/vod/cache-eviction.ts';
import { makeTestMedia } from '../../helpers/media.ts';
import { startTestRelay } from '../../helpers/relay.ts';

t.test('eviction deletes the least recently used packages until the rest fit, sparing the ones it is told to keep', async (t) => {
  const root = await mkdtemp(join(tmpdir(), 'relay-vod-evict-'));
  t.teardown(() => rm(root, { recursive: true, force: true }));
  const made = async (name: string, usedAt: number): Promise<string> => {
    const dir = join(root, name);
    await mkdir(dir);
    await writeFile(join(dir, 'seg00000.ts'), Buffer.alloc(1000));
    await utimes(dir, usedAt, usedAt);
    return dir;
  };
  const oldest = await made('oldest', 1000);
  const middle = await made('middle', 2000);
  const newest = await made('newest', 3000);
  await mkdir(join(root, 'half.partial'));
  t.same(await evictPackages(root, 0, new Set()), [], 'no cap, no eviction');
  t.same(await evictPackages(root, 5000, new Set()), [], 'under the cap, nothing goes');
  t.same(await evictPackages(root, 1500, new Set([oldest])), [middle, newest], 'oldest first, the kept one spared');
  t.same((await readdir(root)).sort(), ['half.partial', 'oldest'], 'a package being made is never touched');
  await evictPackages(root, 1, new Set());
  t.same(await readdir(root), ['half.partial']);
});

t.test('VodCacheMaxSize: a new package pushes the least recently used out; a request for it packages it again', async (t) => {
  const media = await makeTestMedia(2);
  const cache = await mkdtemp(join(tmpdir(), 'relay-vod-cache-'));
  for (const name of ['a.mp4', 'b.mp4']) await copyFile(join(media.dir, 'silent.mp4'), join(media.dir, name));
  const relay = await startTestRelay(`MediaPath ${media.dir}\nVodCachePath ${cache}\nVodCacheMaxSize 1k\n`);
  t.teardown(async () => {
    await relay.stop();
    await media.cleanup();
    await rm(cache, { recursive: true, force: true });
  });
  const playlist = async (name: string): Promise<number> => (await fetch(`${relay.baseUrl}/vod/${name}.m3u8`)).status;
  t.equal(await playlist('a.mp4'), 200);
  const [first] = await readdir(cache);
  t.equal(await playlist('b.mp4'), 200);
  const left = await readdir(cache);
  t.equal(left.length, 1, 'only the newest package is left');
  t.not(left[0], first, 'and it is b\'s');
  t.ok(relay.logs.some((line) => /VOD cache over VodCacheMaxSize: deleted 1 least recently used package/.test(line)), 'the deletion is logged');
  t.equal(await playlist('a.mp4'), 200, 'a is packaged again when asked for');
  const segment = await fetch(`${relay.baseUrl}/vod/a.mp4.m3u8/seg00000.ts`);
  t.equal(segment.status, 200);
});
