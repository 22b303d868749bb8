// Guards: with a small VodCacheMaxSize, requests alternating between two files made ffmpeg re-package them over and
// over (168 runs in 20 s): packaging is bounded per file and per client address.
import { copyFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { makeTestMedia } from '../../helpers/media.ts';
import { startTestRelay } from '../../helpers/relay.ts';
import { get } from '../../helpers/request.ts';

const media = await makeTestMedia(2);
const cache = await mkdtemp(join(tmpdir(), 'relay-vod-budget-'));
const files = ['a.mp4', 'b.mp4', 'c.mp4', 'd.mp4', 'e.mp4', 'f.mp4', 'g.mp4'];
for (const name of files) await copyFile(join(media.dir, 'silent.mp4'), join(media.dir, name));
const relay = await startTestRelay(`MediaPath ${media.dir}\nVodCachePath ${cache}\nVodCacheMaxSize 1k\n`);
t.teardown(async () => {
  await relay.stop();
  await media.cleanup();
  await rm(cache, { recursive: true, force: true });
});
const runs = (): number => relay.logs.filter((line) => /packaged \S+ for HLS in/.test(line)).length;
const playlist = (name: string, localAddress: string) => get(`${relay.baseUrl}/vod/${name}.m3u8`, { localAddress });

t.test('alternating between two files from many addresses packages each at most twice', async (t) => {
  const statuses = new Map<number, number>();
  const requests = 16;
  const retryAfter: number[] = [];
  // Each request evicts the other file's package (the cache holds one), so each would be a packaging run.
  for (let i = 0; i < requests; i++) {
    const answer = await playlist(i % 2 === 0 ? 'a.mp4' : 'b.mp4', `127.0.0.${1 + (i % 8)}`);
    statuses.set(answer.status, (statuses.get(answer.status) ?? 0) + 1);
    if (answer.status === 429) retryAfter.push(Number(answer.headers['retry-after']));
  }
  t.ok(retryAfter.length > 0 && retryAfter.every((seconds) => seconds > 0 && seconds <= 60), `refusals say when to retry: ${retryAfter.join(', ')} s`);
  t.ok(runs() <= 4, `${requests} requests, ${runs()} packaging runs (a and b, twice each at most)`);
  t.ok((statuses.get(200) ?? 0) >= 2, `answered: ${JSON.stringify(Object.fromEntries(statuses))}`);
  t.ok((statuses.get(429) ?? 0) > 0, 'the rest refused with 429');
});

t.test('one address may start a few packaging runs, then waits', async (t) => {
  const before = runs();
  const answers = [];
  for (const name of files.slice(2)) answers.push((await playlist(name, '127.0.0.20')).status);
  t.same(answers, [200, 200, 200, 200, 429], 'four new files packaged, the fifth refused');
  t.equal(runs() - before, 4);
  t.equal((await playlist('g.mp4', '127.0.0.21')).status, 200, 'another address is not held back');
});
