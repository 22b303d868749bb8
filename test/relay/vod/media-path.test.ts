import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { VodError } from '../../../media/file/errors.ts';
import { checkName, resolveMediaFile } from '../../../media/file/path.ts';

const base = await mkdtemp(join(tmpdir(), 'relay-mediapath-'));
const media = join(base, 'media');
await mkdir(join(media, 'sub'), { recursive: true });
await writeFile(join(base, 'secret.txt'), 'outside the media directory');
await writeFile(join(media, 'movie.mp4'), 'inside');
await writeFile(join(media, 'sub', 'clip.mp4'), 'inside, in a folder');
await writeFile(join(media, 'a b%.mp4'), 'a name that needs encoding');
await symlink(join(base, 'secret.txt'), join(media, 'escape.mp4'));
await symlink(base, join(media, 'up'));
await symlink(join(media, 'movie.mp4'), join(media, 'alias.mp4'));
t.teardown(() => rm(base, { recursive: true, force: true }));

async function codeOf(name: string, encoded = true): Promise<string> {
  try {
    await resolveMediaFile(media, name, encoded);
    return 'OK';
  } catch (error) {
    t.ok(error instanceof VodError, `${JSON.stringify(name)} fails with a VodError`);
    t.notMatch((error as Error).message, base, 'the message shows no path of the machine');
    return (error as VodError).code;
  }
}

t.test('files under the media directory resolve, in folders and with encoded names', async (t) => {
  t.equal((await resolveMediaFile(media, 'movie.mp4')).name, 'movie.mp4');
  t.equal((await resolveMediaFile(media, 'sub/clip.mp4')).name, 'sub/clip.mp4');
  t.equal((await resolveMediaFile(media, 'sub%2Fclip.mp4')).name, 'sub/clip.mp4');
  t.equal((await resolveMediaFile(media, 'a%20b%25.mp4')).stats.size, 'a name that needs encoding'.length);
  t.equal(await codeOf('alias.mp4'), 'OK', 'a symlink that stays inside is followed');
});

t.test('traversal in every spelling is refused', async (t) => {
  const spellings = [
    '../secret.txt', '%2e%2e/secret.txt', '%2E%2E%2Fsecret.txt', '..%2fsecret.txt', '..%2Fsecret.txt', 'sub/../../secret.txt',
    'sub/%2e%2e/%2e%2e/secret.txt', './movie.mp4', 'sub//clip.mp4', '..', '.', '',
  ];
  for (const name of spellings) t.equal(await codeOf(name), 'BAD_PATH', `refused: ${JSON.stringify(name)}`);
  t.equal(await codeOf(join(base, 'secret.txt')), 'BAD_PATH', 'an absolute name');
  t.equal(await codeOf(encodeURIComponent(join(base, 'secret.txt'))), 'BAD_PATH', 'an encoded absolute name');
  t.equal(await codeOf('movie.mp4%00.txt'), 'BAD_PATH', 'an encoded NUL');
  t.equal(await codeOf('movie.mp4\0', false), 'BAD_PATH', 'a raw NUL');
  t.equal(await codeOf('..%5csecret.txt'), 'BAD_PATH', 'an encoded backslash');
  t.equal(await codeOf('sub\\..\\..\\secret.txt', false), 'BAD_PATH', 'backslashes');
  t.equal(await codeOf('%E0%A4%A'), 'BAD_PATH', 'broken percent-encoding');
  t.equal(await codeOf('.hidden'), 'BAD_PATH', 'hidden files');
  t.equal(await codeOf('x'.repeat(5000)), 'BAD_PATH', 'an oversized name');
});

t.test('symlinks that leave the media directory are refused', async (t) => {
  t.equal(await codeOf('escape.mp4'), 'FORBIDDEN_PATH');
  t.equal(await codeOf('up/secret.txt'), 'FORBIDDEN_PATH');
});

t.test('missing files, directories and a missing media directory are File not found', async (t) => {
  t.equal(await codeOf('missing.mp4'), 'FILE_NOT_FOUND');
  t.equal(await codeOf('sub'), 'FILE_NOT_FOUND');
  await t.rejects(resolveMediaFile(join(base, 'nowhere'), 'movie.mp4'), { code: 'FILE_NOT_FOUND', message: 'File not found' });
});

t.test('checkName normalises nothing silently: it accepts or refuses', async (t) => {
  t.equal(checkName('dir/file.mp4'), 'dir/file.mp4');
  t.throws(() => checkName('dir/./file.mp4'), { code: 'BAD_PATH' });
});
