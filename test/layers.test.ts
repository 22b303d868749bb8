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
  t.ok(importsOf('relay/app/main.ts').some((target) => target.startsWith('relay/running/')), 'imports are read');
});

/** relay/'s subfolders as a graph: which folder imports which (type imports too: they couple folders as much). */
function relayFolderGraph(): Map<string, Set<string>> {
  const graph = new Map<string, Set<string>>();
  for (const file of sourceFiles('relay')) {
    const from = file.split('/')[1]!;
    if (from.endsWith('.ts')) continue;
    for (const target of importsOf(file)) {
      const to = target.split('/')[1]!;
      if (!target.startsWith('relay/') || to === from || to.endsWith('.ts')) continue;
      if (!graph.has(from)) graph.set(from, new Set());
      graph.get(from)!.add(to);
    }
  }
  return graph;
}

/** One import cycle of the graph as a path (`a -> b -> a`), or undefined when it has none. */
function findCycle(graph: ReadonlyMap<string, ReadonlySet<string>>): string | undefined {
  const done = new Set<string>();
  const path: string[] = [];
  const visit = (node: string): string | undefined => {
    const at = path.indexOf(node);
    if (at >= 0) return [...path.slice(at), node].join(' -> ');
    if (done.has(node)) return undefined;
    path.push(node);
    for (const next of graph.get(node) ?? []) {
      const cycle = visit(next);
      if (cycle) return cycle;
    }
    path.pop();
    done.add(node);
    return undefined;
  };
  for (const node of [...graph.keys()].sort()) {
    const cycle = visit(node);
    if (cycle) return cycle;
  }
  return undefined;
}

t.test("relay's subfolders form no import cycle", async (t) => {
  const graph = relayFolderGraph();
  t.ok(graph.get('app')?.has('running'), 'the folder graph is read');
  t.equal(findCycle(graph), undefined);
});

t.test('the cycle check finds cycles and passes chains', async (t) => {
  const graph = (edges: Array<[string, string]>): Map<string, Set<string>> => {
    const built = new Map<string, Set<string>>();
    for (const [from, to] of edges) built.set(from, (built.get(from) ?? new Set()).add(to));
    return built;
  };
  t.equal(findCycle(graph([['app', 'core'], ['outputs', 'core'], ['app', 'outputs']])), undefined);
  t.equal(findCycle(graph([['core', 'outputs'], ['outputs', 'core']])), 'core -> outputs -> core');
  t.equal(findCycle(graph([['app', 'auth'], ['auth', 'rtsp'], ['rtsp', 'http'], ['rtsp', 'auth']])), 'auth -> rtsp -> auth');
});
