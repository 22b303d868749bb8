// Guards the whole-object cache (CachePath): one download per object version however many callers, bounded by size, files only under its directory.
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import t from 'tap';
import { ObjectCache } from '../../lib/object-cache.ts';
import { ObjectStore } from '../../lib/object-store.ts';
import { TestS3Server } from '../helpers/s3-server.ts';

const s3 = await TestS3Server.start('cache');
s3.addCredentials('AKIACACHE', 'cache-secret');
const dir = await mkdtemp(join(tmpdir(), 'relay-object-cache-'));
const store = new ObjectStore({ name: 'vault', endpoint: s3.endpoint, region: 'us-east-1', bucket: 'cache', pathStyle: true, tlsVerify: true, accessKey: () => 'AKIACACHE', secretKey: () => 'cache-secret' });
t.teardown(async () => {
  store.close();
  await s3.close();
  await rm(dir, { recursive: true, force: true });
});
const SIZE = 300_000;
const body = (fill: number): Buffer => Buffer.alloc(SIZE, fill);
const cache = new ObjectCache(store, join(dir, 'copies'), Math.round(SIZE * 2.5));
const wholeGets = (key: string): number => s3.requests.filter((r) => r.method === 'GET' && r.url.split('?')[0]!.endsWith(`/${key}`)).length;
const copies = async (): Promise<string[]> => (await readdir(join(dir, 'copies'))).sort();

t.test('two callers of one object share one GET of the whole object; a changed object is read again', async (t) => {
  await s3.put('a.mp4', body(1));
  const info = await store.head('a.mp4');
  const [one, two] = await Promise.all([cache.fetch(info), cache.fetch(info)]);
  t.equal(one, two, 'the same copy');
  t.ok((await readFile(one!)).equals(body(1)), 'the whole object');
  t.equal(wholeGets('a.mp4'), 1, 'one GET');
  t.equal(s3.requests.find((r) => r.method === 'GET' && r.url.includes('a.mp4'))?.range, `bytes=0-${SIZE - 1}`, 'of all of it');
  await cache.fetch(info);
  t.equal(wholeGets('a.mp4'), 1, 'a later caller reads the copy');
  await s3.put('a.mp4', body(2));
  const changed = await cache.fetch(await store.head('a.mp4'));
  t.not(changed, one, 'another ETag, another copy');
  t.ok((await readFile(changed)).equals(body(2)));
  t.equal(wholeGets('a.mp4'), 2);
  t.same((await copies()).length, 1, 'the old version deleted');
});

t.test('least recently used copies go first; an object over the cap is refused before it is read', async (t) => {
  for (const key of ['b.mp4', 'c.mp4', 'big.mp4']) await s3.put(key, key === 'big.mp4' ? Buffer.alloc(SIZE * 3) : body(3));
  await cache.fetch(await store.head('b.mp4'));
  t.equal((await copies()).length, 2, 'a and b fit');
  await cache.fetch(await store.head('a.mp4'));
  await cache.fetch(await store.head('c.mp4'));
  t.equal((await copies()).length, 2, 'c took the place of b, the least recently used');
  t.equal(cache.bytes, SIZE * 2);
  await cache.fetch(await store.head('b.mp4'));
  t.equal(wholeGets('b.mp4'), 2, 'b was deleted, so read again');
  await t.rejects(cache.fetch(await store.head('big.mp4')), { code: 'TOO_LARGE', message: `storage vault: the object is ${SIZE * 3} bytes, more than the ${Math.round(SIZE * 2.5)} of CacheMaxSize` });
  t.equal(wholeGets('big.mp4'), 0, 'not read');
});

t.test('a key full of dots names no path: every file is a hash inside the directory', async (t) => {
  await s3.put('..evil/..escape.mp4', body(4));
  const path = await cache.fetch(await store.head('..evil/..escape.mp4'));
  t.equal(dirname(path), join(dir, 'copies'));
  t.ok((await copies()).every((name) => /^[0-9a-f]{64}\.copy$/.test(name)), 'only hashed names');
  t.same((await readdir(dir)).sort(), ['copies'], 'nothing beside the directory');
});
