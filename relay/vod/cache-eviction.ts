import { readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';

/** One finished package in the cache: its directory, its size and when it was last used. */
interface CachedPackage {
  readonly dir: string;
  readonly bytes: number;
  readonly usedAt: number;
}

async function packageOf(dir: string): Promise<CachedPackage | undefined> {
  try {
    const info = await stat(dir);
    if (!info.isDirectory()) return undefined;
    let bytes = 0;
    for (const name of await readdir(dir)) bytes += (await stat(join(dir, name)).catch(() => undefined))?.size ?? 0;
    return { dir, bytes, usedAt: info.mtimeMs };
  } catch {
    return undefined; // deleted meanwhile
  }
}

/**
 * Deletes the least recently used packages under `root` until they take at most `maxBytes`, sparing those in `keep`
 * (the one just made, and any being made). A package's directory modification time is its last use. Returns the
 * directories deleted.
 */
export async function evictPackages(root: string, maxBytes: number, keep: ReadonlySet<string>): Promise<string[]> {
  if (maxBytes <= 0) return [];
  const names = await readdir(root).catch(() => [] as string[]);
  const packages = (await Promise.all(names.filter((name) => !name.endsWith('.partial')).map((name) => packageOf(join(root, name)))))
    .filter((entry): entry is CachedPackage => entry !== undefined)
    .sort((a, b) => a.usedAt - b.usedAt);
  let total = packages.reduce((sum, entry) => sum + entry.bytes, 0);
  const deleted: string[] = [];
  for (const entry of packages) {
    if (total <= maxBytes) break;
    if (keep.has(entry.dir)) continue;
    await rm(entry.dir, { recursive: true, force: true });
    total -= entry.bytes;
    deleted.push(entry.dir);
  }
  return deleted;
}
