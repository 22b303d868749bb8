import type { Readable } from 'node:stream';
import { ObjectStoreError, type ObjectInfo, type ObjectStore } from '../../lib/object-store.ts';
import { readObject } from '../../lib/object-stream.ts';
import { spawnProcess } from '../../lib/ffmpeg-runner.ts';
import { FASTSTART_HINT, MOOV_LAST_MESSAGE, mp4BoxOrder } from './box-order.ts';
import { fileNotFound, VodError } from './errors.ts';
import { checkName } from './path.ts';
import { ffprobeFor, parseProbeOutput, probeMediaFile, PROBE_ARGS, type MediaInfo } from './probe.ts';

/** The prefix of names that live in a bucket: `s3/STORAGE/KEY` after /vod/ or vod-live://. */
export const S3_PREFIX = 's3/';
/** Bytes past the end of `moov` (or from the start of another container) given to ffprobe. */
const PROBE_TAIL_BYTES = 1024 * 1024;
const PROBE_TIMEOUT_MS = 15_000;

/** An object found in a configured bucket, its size and validators known. */
export interface S3Object {
  readonly store: ObjectStore;
  readonly info: ObjectInfo;
  /** "s3/STORAGE/KEY", decoded: safe to show. */
  readonly name: string;
}

/** True when a (percent-encoded) file name points into a bucket. */
export function isS3Name(encoded: string): boolean {
  return encoded.toLowerCase().startsWith(S3_PREFIX);
}

/**
 * Finds `s3/STORAGE/KEY` (percent-encoded as in a URL): the key gets the checks of a local file name (no `..` in any
 * spelling, no leading slash, no NUL or control characters, at most 1,024 characters), the storage must be configured,
 * and the object must exist (else "File not found", as for local files).
 */
export async function findS3Object(stores: ReadonlyMap<string, ObjectStore>, encodedName: string, signal?: AbortSignal): Promise<S3Object> {
  const name = checkName(encodedName, true);
  const [, storage, ...rest] = name.split('/');
  if (!storage || rest.length === 0) throw new VodError('BAD_PATH', 'A bucket file is named s3/STORAGE/KEY');
  const store = stores.get(storage);
  if (!store) {
    const known = [...stores.keys()].join(', ') || 'none are configured';
    throw new VodError('BAD_PATH', `No storage named "${storage.slice(0, 64)}" (storages: ${known})`);
  }
  const key = rest.join('/');
  try {
    return { store, info: await store.head(key, signal), name };
  } catch (error) {
    throw asVodError(error);
  }
}

/**
 * A bucket failure as the VOD edge reports it: a missing key is "File not found", refused credentials a 502
 * STORAGE_AUTH (no Retry-After: the config must change), a bucket down a 503 with Retry-After.
 */
export function asVodError(error: unknown): VodError {
  if (error instanceof VodError) return error;
  if (error instanceof ObjectStoreError && error.code === 'NOT_FOUND') return fileNotFound();
  if (error instanceof ObjectStoreError && error.code === 'DENIED') return new VodError('STORAGE_AUTH', error.message);
  if (error instanceof ObjectStoreError) return new VodError('STORAGE_UNAVAILABLE', error.message, 5);
  throw error;
}

/** Reads `length` bytes at `offset` of an object, whole (for box headers). */
async function readBytes(object: S3Object, offset: number, length: number): Promise<Buffer> {
  const end = Math.min(object.info.size, offset + length);
  if (end <= offset) return Buffer.alloc(0);
  const parts: Buffer[] = [];
  for await (const chunk of readObject(object.store, object.info, { start: offset, end })) parts.push(chunk as Buffer);
  return Buffer.concat(parts);
}

/**
 * What an object holds, known before playing it: an MP4 must have its `moov` first (else a NOT_VIDEO error saying how to
 * fix it); ffprobe then reads the object's start (up to the end of `moov` and 1 MiB more) from its stdin.
 */
export async function probeS3Object(object: S3Object, ffmpegPath: string): Promise<S3MediaInfo> {
  // An object's version is its ETag: a stream started by the API and its camera starting a moment later probe it once.
  const version = `${object.store.name}\0${object.info.key}\0${object.info.etag ?? ''}\0${object.info.size}`;
  const known = probed.get(version);
  if (known && object.info.etag) return known;
  try {
    const order = await mp4BoxOrder((offset, length) => readBytes(object, offset, length), object.info.size);
    if (order.kind === 'moov-last') return await probeWholeCopy(object, ffmpegPath);
    const probeEnd = Math.min(object.info.size, (order.kind === 'moov-first' ? order.moovEnd : 0) + PROBE_TAIL_BYTES);
    const output = await ffprobeStdin(readObject(object.store, object.info, { end: probeEnd }), ffmpegPath);
    const info = { ...parseProbeOutput('ffmpeg', output), probeEnd };
    if (probed.size >= MAX_PROBED) probed.delete(probed.keys().next().value!);
    probed.set(version, info);
    return info;
  } catch (error) {
    throw asVodError(error);
  }
}

/** What an object holds; `wholeCopy`: it plays from a whole local copy (its index is at the end, CachePath is set). */
export type S3MediaInfo = MediaInfo & { readonly probeEnd: number; readonly wholeCopy?: true };

/** An MP4 whose index is at the end: refused with the fix, or, with CachePath, downloaded whole and probed on disk. */
async function probeWholeCopy(object: S3Object, ffmpegPath: string): Promise<S3MediaInfo> {
  const cache = object.store.cache;
  if (!cache) throw new VodError('NOT_VIDEO', MOOV_LAST_MESSAGE);
  try {
    return { ...(await probeMediaFile(await cache.fetch(object.info), ffmpegPath)), probeEnd: 0, wholeCopy: true };
  } catch (error) {
    if (error instanceof ObjectStoreError && error.code === 'TOO_LARGE') {
      throw new VodError('NOT_VIDEO', `The MP4 file has its index (moov) after the media data and is too large to fetch whole first (${error.message}); raise CacheMaxSize or move the index to the start with: ${FASTSTART_HINT}`);
    }
    throw error;
  }
}

/** Probe results by object version (storage, key, ETag, size), oldest dropped first. */
const probed = new Map<string, S3MediaInfo>();
const MAX_PROBED = 256;

/** Runs ffprobe on bytes given on its stdin; resolves with its JSON output. */
function ffprobeStdin(input: Readable, ffmpegPath: string): Promise<string> {
  const controller = new AbortController();
  const child = spawnProcess({
    command: ffprobeFor(ffmpegPath), args: [...PROBE_ARGS, '-i', 'pipe:0'], signal: controller.signal,
    timeoutMs: PROBE_TIMEOUT_MS, stdinBudget: 1024 * 1024, graceMs: 5000, stopSignal: null,
  });
  const out: Buffer[] = [];
  child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
  let failure: unknown;
  input.on('data', (chunk: Buffer) => {
    input.pause();
    if (!child.write(chunk, () => input.resume())) input.destroy();
  });
  input.on('end', () => child.endInput());
  input.on('error', (error) => {
    failure = error;
    child.kill();
  });
  return child.exit.then((exit) => {
    input.destroy();
    if (failure) throw failure;
    if (exit.code !== 0) throw new VodError('NOT_VIDEO', 'The file is not a video the relay can read');
    return Buffer.concat(out).toString();
  });
}
