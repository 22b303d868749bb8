// Guards the layering: lib/ < media/ < conf/, adapters/ < relay/, and nothing below relay/app/ reaches up into it.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** What each top-level folder may import besides itself and packages. */
const ALLOWED: Record<string, readonly string[]> = {
  lib: [],
  media: ['lib'],
  conf: ['lib', 'media'],
  adapters: ['lib', 'media', 'conf'],
  relay: ['lib', 'media', 'conf', 'adapters'],
};

function sourceFiles(folder: string): string[] {
  return readdirSync(join(root, folder), { recursive: true, encoding: 'utf8' })
    .filter((name) => name.endsWith('.ts'))
    .map((name) => join(folder, name));
}

/** Repository-relative paths of every relative module a file imports, statically or dynamically. */
function importsOf(file: string): string[] {
  const text = readFileSync(join(root, file), 'utf8');
  const specifiers = [...text.matchAll(/(?:from|import)\s*\(?\s*'(\.{1,2}\/[^']+)'/g)].map((match) => match[1]!);
  return specifiers.map((specifier) => relative(root, resolve(root, dirname(file), specifier)));
}

/** Whether `file` importing `target` (both repository-relative) points up a layer. */
function pointsUp(file: string, target: string): boolean {
  const layer = file.split('/')[0]!;
  const targetLayer = target.split('/')[0]!;
  if (targetLayer !== layer && !ALLOWED[layer]!.includes(targetLayer)) return true;
  return target.startsWith('relay/app/') && !file.startsWith('relay/app/');
}

function violations(): string[] {
  const found: string[] = [];
  for (const layer of Object.keys(ALLOWED)) {
    for (const file of sourceFiles(layer)) {
      for (const target of importsOf(file)) if (pointsUp(file, target)) found.push(`${file} -> ${target}`);
    }
  }
  return found;
}

t.test('no import points up a layer', async (t) => {
  t.same(violations(), []);
});

t.test('the check sees upward imports and allows downward ones', async (t) => {
  t.ok(pointsUp('lib/log.ts', 'relay/core/feed.ts'));
  t.ok(pointsUp('media/fmp4.ts', 'adapters/types.ts'));
  t.ok(pointsUp('adapters/rtsp/client.ts', 'relay/core/errors.ts'));
  t.ok(pointsUp('relay/core/feed.ts', 'relay/app/status.ts'));
  t.notOk(pointsUp('relay/app/main.ts', 'relay/core/feed.ts'));
  t.notOk(pointsUp('adapters/rtsp/client.ts', 'media/rtsp/message.ts'));
  t.ok(importsOf('relay/app/main.ts').some((target) => target.startsWith('relay/core/')), 'imports are read');
});
