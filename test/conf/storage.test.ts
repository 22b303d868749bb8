// Guards <Storage> blocks and RecordArchive: checked with file:line errors, and no secret key in any error or in the config's JSON.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { parseConfig } from '../../conf/parse.ts';
import { rejectsConfig } from '../helpers/config-rejects.ts';

const schemes = ['testsrc', 'vod-live'];
const SECRET = 'sEcReT-kEy-4242-do-not-print';
const storage = (body: string): string => `<Storage archive>\n${body}</Storage>\n`;
const full = `  Endpoint http://127.0.0.1:9000\n  Bucket camera-archive\n  AccessKey AKIATEST\n`;

t.test('a Storage block is read with its defaults; the keys are functions, absent from the JSON', async (t) => {
  const { config } = parseConfig(storage(`${full}  SecretKey ${SECRET}\n`), 'relay.conf', { schemes });
  const [archive] = config.storages;
  t.equal(archive?.endpoint, 'http://127.0.0.1:9000');
  t.equal(archive?.region, 'us-east-1');
  t.equal(archive?.pathStyle, true);
  t.equal(archive?.tlsVerify, true);
  t.equal(archive?.secretKey(), SECRET);
  t.equal(archive?.accessKey(), 'AKIATEST');
  t.notMatch(JSON.stringify(config), SECRET);
  t.notMatch(JSON.stringify(config), 'AKIATEST');
  t.same([archive?.cachePath, archive?.cacheMaxBytes], [undefined, 2 * 2 ** 30], 'no whole-object cache unless CachePath is given');
  const cached = parseConfig(storage(`${full}  SecretKey ${SECRET}\n  CachePath /var/cache/relay/s3\n  CacheMaxSize 500M\n`), 'relay.conf', { schemes });
  t.same([cached.config.storages[0]?.cachePath, cached.config.storages[0]?.cacheMaxBytes], ['/var/cache/relay/s3', 500 * 2 ** 20]);
});

t.test('SecretKeyFile and SecretKeyEnv are read at load; their errors name the place, never the key', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'relay-storage-conf-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  await writeFile(join(dir, 's3.secret'), `${SECRET}\n`);
  const fromFile = parseConfig(storage(`${full}  SecretKeyFile ${join(dir, 's3.secret')}\n`), 'relay.conf', { schemes });
  t.equal(fromFile.config.storages[0]?.secretKey(), SECRET);
  process.env.RELAY_TEST_S3_SECRET = SECRET;
  t.teardown(() => delete process.env.RELAY_TEST_S3_SECRET);
  const fromEnv = parseConfig(storage(`${full}  SecretKeyEnv RELAY_TEST_S3_SECRET\n`), 'relay.conf', { schemes });
  t.equal(fromEnv.config.storages[0]?.secretKey(), SECRET);
  rejectsConfig(t, storage(`${full}  SecretKeyFile ${join(dir, 'missing')}\n`), `relay.conf:5: SecretKeyFile: cannot read ${join(dir, 'missing')}: ENOENT`, schemes);
  rejectsConfig(t, storage(`${full}  SecretKeyEnv RELAY_TEST_NOT_SET\n`), 'relay.conf:5: SecretKeyEnv: the environment variable RELAY_TEST_NOT_SET is not set or empty', schemes);
  const twice = rejectsConfig(t, storage(`${full}  SecretKey ${SECRET}\n  SecretKeyEnv RELAY_TEST_S3_SECRET\n`), 'relay.conf:6: SecretKeyEnv: give only one of SecretKey, SecretKeyFile and SecretKeyEnv', schemes);
  const badArgs = rejectsConfig(t, storage(`${full}  SecretKey ${SECRET} extra\n`), 'relay.conf:5: SecretKey: takes exactly one value, got 2', schemes);
  for (const message of [...twice, ...badArgs]) t.notMatch(message, SECRET, 'no error shows the secret key');
});

t.test('bad Storage blocks and RecordArchive names are refused with file:line', async (t) => {
  rejectsConfig(t, storage('  Endpoint ftp://x\n  Bucket camera-archive\n  AccessKey A\n  SecretKey B\n'), 'relay.conf:2: Endpoint: an http:// or https:// URL without user, query or fragment, e.g. https://s3.eu-west-1.amazonaws.com or http://127.0.0.1:9000', schemes);
  rejectsConfig(t, storage('  Endpoint http://u:p@host\n  Bucket camera-archive\n  AccessKey A\n  SecretKey B\n'), 'relay.conf:2: Endpoint: an http:// or https:// URL without user, query or fragment, e.g. https://s3.eu-west-1.amazonaws.com or http://127.0.0.1:9000', schemes);
  rejectsConfig(t, storage('  Endpoint http://h\n  Bucket Bad_Bucket\n  AccessKey A\n  SecretKey B\n'), 'relay.conf:3: Bucket: "Bad_Bucket" is not a bucket name (3 to 63 lower-case letters, digits, \'.\' and \'-\')', schemes);
  rejectsConfig(t, storage('  Endpoint http://h\n  Bucket b12\n  AccessKey A\n'), 'relay.conf:1: <Storage archive>: needs one of SecretKey, SecretKeyFile or SecretKeyEnv', schemes);
  rejectsConfig(t, storage('  Bucket b12\n  AccessKey A\n  SecretKey B\n'), 'relay.conf:1: <Storage archive>: missing required directive Endpoint', schemes);
  rejectsConfig(t, storage('  Endpoint http://h\n  Bucket b12\n  AccessKey A\n  SecretKey B\n  Colour red\n'), 'relay.conf:6: Colour: unknown directive in a <Storage> block', schemes);
  rejectsConfig(t, storage(`${full}  SecretKey B\n  CachePath /tmp/c\n  CacheMaxSize 0\n`), 'relay.conf:7: CacheMaxSize: the cache needs a cap above 0 (e.g. 2G)', schemes);
  rejectsConfig(t, 'RecordArchive nowhere\n', 'relay.conf:1: RecordArchive: no <Storage nowhere> block (storages: none are defined)', schemes);
  rejectsConfig(t, `${storage(`${full}  SecretKey B\n`)}<Camera cam>\n  Source testsrc://\n  RecordArchive other\n</Camera>\n`, 'relay.conf:9: RecordArchive: no <Storage other> block (storages: archive)', schemes);
  rejectsConfig(t, `${storage(`${full}  SecretKey B\n`)}${storage(`${full}  SecretKey B\n`)}`, 'relay.conf:7: <Storage archive>: the name archive is already used on line 1', schemes);
  // Guards two Storage blocks sharing a CachePath (each cache deletes the other's copies) being accepted.
  const cached = (name: string, path: string): string => `<Storage ${name}>\n${full}  SecretKey B\n  CachePath ${path}\n</Storage>\n`;
  rejectsConfig(t, cached('films', '/var/cache/relay/s3') + cached('clips', '/var/cache/relay/s3/'), 'relay.conf:13: CachePath: <Storage clips> names the directory of <Storage films> (its CachePath on line 6): ' +
    'two caches in one directory delete each other\'s copies; give each Storage block its own CachePath', schemes);
  t.same(parseConfig(cached('films', '/var/cache/relay/films') + cached('clips', '/var/cache/relay/clips'), 'relay.conf', { schemes }).config.storages.map((s) => s.cachePath),
    ['/var/cache/relay/films', '/var/cache/relay/clips'], 'a directory each is fine');
});

t.test('RecordArchive and RecordLocalKeep: global, per camera, and none', async (t) => {
  const text = `RecordArchive archive\nRecordLocalKeep 1h\n${storage(`${full}  SecretKey B\n`)}<Camera a>\n  Source testsrc://\n</Camera>\n<Camera b>\n  Source testsrc://\n  RecordArchive none\n</Camera>\n<Camera c>\n  Source testsrc://\n  RecordLocalKeep 10s\n</Camera>\n`;
  const { config } = parseConfig(text, 'relay.conf', { schemes });
  t.same(config.cameras.map((c) => [c.name, c.record.archive, c.record.localKeepMs]), [['a', 'archive', 3_600_000], ['b', undefined, 3_600_000], ['c', 'archive', 10_000]]);
});
