import type { Stats } from 'node:fs';
import { realpath, stat } from 'node:fs/promises';
import { resolve, sep } from 'node:path';
import { fileNotFound, VodError } from './errors.ts';

/** Longest file name accepted, decoded. */
const MAX_NAME_LENGTH = 1024;

/** A file inside the media directory, checked: its real path never leaves the relay. */
export interface MediaFile {
  /** The name as the client gave it, decoded and normalised ("dir/movie.mp4"): safe to show. */
  readonly name: string;
  /** The real path on disk, for opening only: never shown. */
  readonly path: string;
  readonly stats: Stats;
}

/**
 * Checks a file name taken from a URL (still percent-encoded when `encoded`) and finds it under `root`. Refuses
 * traversal in any spelling (`..`, `%2e%2e`, `..%2f`), absolute names, NUL, backslashes, hidden files, and symlinks
 * whose target leaves the media directory. Errors carry no path.
 */
export async function resolveMediaFile(root: string, rawName: string, encoded = true): Promise<MediaFile> {
  const name = checkName(rawName, encoded);
  let rootReal: string;
  try {
    rootReal = await realpath(resolve(root));
  } catch {
    throw fileNotFound();
  }
  let real: string;
  try {
    real = await realpath(resolve(rootReal, name));
  } catch {
    throw fileNotFound();
  }
  if (!real.startsWith(rootReal + sep)) throw new VodError('FORBIDDEN_PATH', 'The file is outside the media directory');
  const stats = await stat(real).catch(() => undefined);
  if (!stats?.isFile()) throw fileNotFound();
  return { name, path: real, stats };
}

/** Decodes and validates a relative file name; throws BAD_PATH naming what is wrong (never echoing a path). */
export function checkName(rawName: string, encoded = true): string {
  let name: string;
  try {
    name = encoded ? decodeURIComponent(rawName) : rawName;
  } catch {
    throw new VodError('BAD_PATH', 'The file name is not valid percent-encoding');
  }
  if (name.length === 0) throw new VodError('BAD_PATH', 'No file name given');
  if (name.length > MAX_NAME_LENGTH) throw new VodError('BAD_PATH', 'The file name is too long');
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(name)) throw new VodError('BAD_PATH', 'The file name contains control characters');
  if (name.includes('\\')) throw new VodError('BAD_PATH', 'The file name contains a backslash');
  if (name.startsWith('/')) throw new VodError('BAD_PATH', 'Absolute file names are not allowed');
  const parts = name.split('/');
  if (parts.some((part) => part === '' || part === '.' || part === '..')) {
    throw new VodError('BAD_PATH', 'The file name may not contain empty, "." or ".." parts');
  }
  if (parts.some((part) => part.startsWith('.'))) throw new VodError('BAD_PATH', 'Hidden files are not served');
  return name;
}
