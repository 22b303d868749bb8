import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { DirectiveSpec } from './directives.ts';
import type { ParsedBlock, Problems } from './parse.ts';
import type { StorageConfig } from './types.ts';
import { boolean, storageSize, text, ValueError, type ValueParser } from './values.ts';

/** S3 bucket names: 3 to 63 lower-case letters, digits, dots and dashes, starting and ending with a letter or digit. */
const BUCKET_PATTERN = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

/** A secret given on the directive's line: parsed as text, but a parse error never repeats what was written. */
const secretText: ValueParser<string> = (args) => (args.length === 1 ? args[0]! : new ValueError(`takes exactly one value, got ${args.length}`));

/** Directives of a `<Storage NAME>` block: one S3-compatible bucket. */
export const STORAGE_DIRECTIVES: Record<string, DirectiveSpec> = {
  Endpoint: { parse: text, required: true },
  Region: { parse: text, default: 'us-east-1' },
  Bucket: { parse: text, required: true },
  PathStyle: { parse: boolean, default: true },
  TLSVerify: { parse: boolean, default: true },
  AccessKey: { parse: secretText, required: true },
  SecretKey: { parse: secretText },
  SecretKeyFile: { parse: text },
  SecretKeyEnv: { parse: text },
  CachePath: { parse: text },
  CacheMaxSize: { parse: storageSize(2 ** 53), default: 2 * 2 ** 30 },
};

/** Reads the secret key from the one place the block names; errors say where, never what. */
function secretOf(block: ParsedBlock, problems: Problems, env: NodeJS.ProcessEnv): string | undefined {
  const given = (['SecretKey', 'SecretKeyFile', 'SecretKeyEnv'] as const).filter((name) => block.values.has(name));
  if (given.length === 0) {
    problems.error(block.line, `<Storage ${block.name}>: needs one of SecretKey, SecretKeyFile or SecretKeyEnv`);
    return undefined;
  }
  if (given.length > 1) {
    problems.error(block.values.get(given[1]!)!.line, `${given[1]}: give only one of SecretKey, SecretKeyFile and SecretKeyEnv`);
    return undefined;
  }
  const [name] = given;
  const { value, line } = block.values.get(name!)!;
  if (name === 'SecretKey') return value as string;
  if (name === 'SecretKeyEnv') {
    const secret = env[value as string];
    if (!secret) problems.error(line, `SecretKeyEnv: the environment variable ${value as string} is not set or empty`);
    return secret || undefined;
  }
  let secret: string;
  try {
    secret = readFileSync(value as string, 'utf8').trim();
  } catch (error) {
    problems.error(line, `SecretKeyFile: cannot read ${value as string}: ${(error as NodeJS.ErrnoException).code ?? 'read error'}`);
    return undefined;
  }
  if (!secret) problems.error(line, `SecretKeyFile: ${value as string} is empty`);
  return secret || undefined;
}

/** A `<Storage NAME>` block's config, checked; undefined (with the errors recorded) when it cannot be used. */
export function buildStorage(block: ParsedBlock, problems: Problems, env: NodeJS.ProcessEnv = process.env): StorageConfig | undefined {
  const value = <T>(name: string): T => (block.values.get(name)?.value ?? STORAGE_DIRECTIVES[name]!.default) as T;
  const lineOf = (name: string): number => block.values.get(name)?.line ?? block.line;
  const endpointText = value<string | undefined>('Endpoint');
  const bucket = value<string | undefined>('Bucket');
  let ok = endpointText !== undefined && bucket !== undefined;
  let endpoint: URL | undefined;
  if (endpointText !== undefined) {
    try {
      endpoint = new URL(endpointText);
    } catch {
      endpoint = undefined;
    }
    if (!endpoint || !['http:', 'https:'].includes(endpoint.protocol) || endpoint.username || endpoint.password || endpoint.search || endpoint.hash) {
      problems.error(lineOf('Endpoint'), 'Endpoint: an http:// or https:// URL without user, query or fragment, e.g. https://s3.eu-west-1.amazonaws.com or http://127.0.0.1:9000');
      ok = false;
    }
  }
  if (bucket !== undefined && !BUCKET_PATTERN.test(bucket)) {
    problems.error(lineOf('Bucket'), `Bucket: "${bucket.slice(0, 80)}" is not a bucket name (3 to 63 lower-case letters, digits, '.' and '-')`);
    ok = false;
  }
  const region = value<string>('Region');
  if (!/^[a-z0-9-]{1,40}$/.test(region)) {
    problems.error(lineOf('Region'), `Region: "${region.slice(0, 40)}" is not a region name (e.g. us-east-1)`);
    ok = false;
  }
  const cacheMaxBytes = value<number>('CacheMaxSize');
  if (cacheMaxBytes === 0) {
    problems.error(lineOf('CacheMaxSize'), 'CacheMaxSize: the cache needs a cap above 0 (e.g. 2G)');
    ok = false;
  }
  const secret = secretOf(block, problems, env);
  const accessKey = value<string | undefined>('AccessKey');
  if (!ok || secret === undefined || accessKey === undefined || !endpoint) return undefined;
  return {
    name: block.name,
    line: block.line,
    endpoint: endpoint.toString().replace(/\/$/, ''),
    region,
    bucket,
    pathStyle: value<boolean>('PathStyle'),
    tlsVerify: value<boolean>('TLSVerify'),
    cachePath: value<string | undefined>('CachePath'),
    cacheMaxBytes,
    // Functions, so that printing or serialising the config never shows the keys.
    accessKey: () => accessKey,
    secretKey: () => secret,
  } as StorageConfig;
}

/**
 * Refuses two `<Storage>` blocks whose CachePath is the same directory: each cache counts the copies it finds there
 * against its own CacheMaxSize and removes half-done downloads, so two would delete each other's files.
 */
export function checkCachePaths(storages: readonly StorageConfig[], blocks: readonly ParsedBlock[], problems: Problems): void {
  const first = new Map<string, { name: string; line: number }>();
  for (const storage of storages) {
    const block = blocks.find((candidate) => candidate.kind === 'Storage' && candidate.name === storage.name);
    const entry = block?.values.get('CachePath');
    if (!entry || storage.cachePath === undefined) continue;
    const directory = resolve(storage.cachePath);
    const earlier = first.get(directory);
    if (earlier) {
      problems.error(entry.line, `CachePath: <Storage ${storage.name}> names the directory of <Storage ${earlier.name}> (its CachePath on line ${earlier.line}): ` +
        'two caches in one directory delete each other\'s copies; give each Storage block its own CachePath');
    } else first.set(directory, { name: storage.name, line: entry.line });
  }
}
