// Guards the README's quick start and the docs: `relay --check` as written gave "command not found" in a checkout,
// and a front door whose config, links or signing examples are wrong sends a new operator the wrong way.
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import t from 'tap';
import { parseConfig } from '../../conf/parse.ts';
import { signUrl } from '../../relay/auth/cli-commands.ts';
import { checkViewerToken } from '../../relay/auth/viewer-token.ts';

const run = promisify(execFile);
const root = fileURLToPath(new URL('../../', import.meta.url));
const read = (path: string): Promise<string> => readFile(join(root, path), 'utf8');
const pages = (await readdir(join(root, 'docs'))).filter((name) => name.endsWith('.md')).map((name) => `docs/${name}`);
const dir = await mkdtemp(join(tmpdir(), 'relay-docs-'));
t.teardown(() => rm(dir, { recursive: true, force: true }));

/** The fenced block that follows `<!-- MARKER -->` in a markdown text. */
function blockAfter(text: string, marker: string): string {
  const match = new RegExp(`<!-- ${marker} -->\\s*\`\`\`[a-z]*\\n([\\s\\S]*?)\\n\`\`\``).exec(text);
  if (!match) throw new Error(`no block after <!-- ${marker} -->`);
  return match[1]!;
}

/** `npx relay ARGS` in the checkout, as an operator types it (never installing anything from a registry). */
const npxRelay = (args: string[]) => run('npx', ['--no-install', 'relay', ...args], { cwd: root, timeout: 60_000 });

t.test('the quick start config passes `npx relay --check` (run as written, in the checkout) and has one camera of each kind, a wall, a recording and a password', async (t) => {
  const conf = blockAfter(await read('README.md'), 'quick-start: relay.conf');
  const file = join(dir, 'relay.conf');
  await writeFile(file, conf);
  const { stdout } = await npxRelay(['--check', file]);
  t.match(stdout, /: ok\n/, '--check says ok');
  t.match(stdout, /cameras: 3/);
  t.match(stdout, /record hallway: about/, 'the recording is sized');
  for (const scheme of ['http://', 'vbc://', 'rtsp://']) t.match(conf, new RegExp(`^\\s*Source ${scheme}`, 'm'), `a ${scheme} camera`);
  t.match(conf, /^\s*Record yes/m);
  t.match(conf, /^AdminUser admin \$scrypt\$/m);
  for (const camera of ['hallway', 'lobby', 'parking']) t.match(conf, new RegExp(`<Stream ${camera}\\.jpg>`), `${camera} has a snapshot stream for the wall`);
});

t.test('no page writes a bare `relay --...` command, which is not on the PATH in a checkout', async (t) => {
  for (const path of ['README.md', 'relay.conf.example', ...pages]) {
    const bare = (await read(path)).split('\n').filter((line) => /(?<![\w/.-]|npx )relay (--[a-z]|-c )/.test(line));
    t.same(bare, [], `${path} writes npx relay`);
  }
  t.ok(/(?<![\w/.-]|npx )relay (--[a-z]|-c )/.test('relay --check relay.conf'), 'the check sees a bare command');
});

/** GitHub's anchor of a heading. */
const slug = (heading: string): string => heading.toLowerCase().replace(/[^\w\s-]/g, '').trim().replace(/\s/g, '-');

t.test('every relative link of the README and docs/ reaches a file, and its #anchor a heading there', async (t) => {
  let links = 0;
  for (const path of ['README.md', ...pages]) {
    const text = await read(path);
    for (const [, target] of text.matchAll(/\]\(([^)\s]+)\)/g)) {
      if (/^[a-z]+:/.test(target!) || target!.startsWith('#')) continue;
      links++;
      const [file, anchor] = target!.split('#');
      const resolved = join(root, path.includes('/') ? 'docs' : '', file!);
      const linked = await readFile(resolved, 'utf8').catch(() => undefined);
      t.ok(linked !== undefined, `${path}: ${target} exists`);
      if (anchor && linked) t.ok([...linked.matchAll(/^#+ (.+)$/gm)].some((heading) => slug(heading[1]!) === anchor), `${path}: #${anchor} is a heading of ${file}`);
    }
  }
  t.ok(links >= 15, `${links} links checked`);
});

t.test('the Node and Python signing examples make tokens the relay accepts, equal to its own', async (t) => {
  const security = await read('docs/security.md');
  const secret = 'a-secret-of-at-least-32-characters-for-the-test';
  const { config } = parseConfig(`ViewerTokenSecret ${secret}\n<Camera lobby>\n  Source testsrc://\n</Camera>\n<Stream lobby.m3u8>\n  Feed lobby\n</Stream>\n`, 'relay.conf', { schemes: ['testsrc'] });
  const scripts = [
    { name: 'sign.cjs', command: process.execPath, code: blockAfter(security, 'sign-example: node') },
    { name: 'sign.py', command: 'python3', code: blockAfter(security, 'sign-example: python') },
  ];
  for (const { name, command, code } of scripts) {
    t.ok(code.split('\n').filter((line) => line.trim() && !line.trim().startsWith('//') && !line.trim().startsWith('#')).length <= 12, `${name} is short`);
    await writeFile(join(dir, name), code);
    const before = Math.floor(Date.now() / 1000);
    const { stdout } = await run(command, [join(dir, name), 'lobby.m3u8', '600'], { env: { ...process.env, VIEWER_TOKEN_SECRET: secret } });
    const match = /^\/player\/lobby\.m3u8\?token=((\d+)\.[A-Za-z0-9_-]{43})\n$/.exec(stdout);
    t.ok(match, `${name} printed ${stdout.trim()}`);
    if (!match) continue;
    const expiry = Number(match[2]);
    t.ok(expiry >= before + 600 && expiry <= before + 660, `${name}: expires in about 600 s`);
    const relaySigned = signUrl(config, '/player/lobby.m3u8', '600', (expiry - 600) * 1000);
    t.equal(stdout.trim(), relaySigned, `${name}: the same link as \`npx relay --sign-url /player/lobby.m3u8 --expires 600\` signs`);
    t.equal(checkViewerToken(secret, 'lobby.m3u8', match[1]!), 'valid');
    t.equal(checkViewerToken(secret, 'lobby.flv', match[1]!), 'bad', 'and it opens only that stream');
  }
});
