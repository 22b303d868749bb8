// Guards docs/architecture.md against the tree moving under it: every file it names must exist.
import { existsSync, readFileSync } from 'node:fs';
import t from 'tap';

const root = new URL('../../', import.meta.url);
const text = readFileSync(new URL('docs/architecture.md', root), 'utf8');
const PATH = /`((?:lib|media|conf|adapters|relay|test)\/[\w./-]+\.ts)`/g;

t.test('every file docs/architecture.md names exists', async (t) => {
  const named = [...new Set([...text.matchAll(PATH)].map((match) => match[1]!))];
  t.ok(named.length >= 25, `${named.length} files named`);
  t.same(named.filter((path) => !existsSync(new URL(path, root))), [], 'named but missing (a file moved: update the frame path)');
});

t.test('the frame path opens few files, one numbered list', async (t) => {
  const section = /## How a frame travels\n([\s\S]*?)\n## /.exec(text)?.[1] ?? '';
  t.match(section, /^1\. /m);
  t.ok(existsSync(new URL('test/layers.test.ts', root)), 'the layering test it cites exists');
});
