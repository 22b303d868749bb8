import { ObjectStoreError, type ObjectStore } from '../../lib/object-store.ts';
import { readObject } from '../../lib/object-stream.ts';
import { VodError, type VodErrorCode } from '../../media/file/errors.ts';
import { findS3Object, probeS3Object, type S3MediaInfo, type S3Object } from '../../media/file/s3-object.ts';
import { AdapterError, type AdapterErrorCode } from '../errors.ts';
import type { Readable } from 'node:stream';

/** A bucket object ready to play: found, its `moov` first, probed. */
export interface PlayableObject {
  readonly object: S3Object;
  readonly info: S3MediaInfo;
}

/** The camera codes of the VOD failures that are not about the file itself; any other is PROTOCOL. */
const ADAPTER_CODES: Partial<Record<VodErrorCode, AdapterErrorCode>> = {
  FILE_NOT_FOUND: 'UPSTREAM_STATUS',
  STORAGE_UNAVAILABLE: 'CONNECT',
  // Refused credentials read as a camera's wrong password does.
  STORAGE_AUTH: 'AUTH',
};

/** The adapter-level form of a failure to find or read an object: a missing key reads "File not found" as for local files. */
export function objectFailure(error: unknown): AdapterError {
  if (error instanceof AdapterError) return error;
  if (error instanceof VodError) return new AdapterError(ADAPTER_CODES[error.code] ?? 'PROTOCOL', error.message);
  if (error instanceof ObjectStoreError) {
    if (error.code === 'NOT_FOUND') return new AdapterError('CLOSED', 'File not found: the object was deleted or replaced while playing');
    return new AdapterError(error.code === 'DENIED' ? 'AUTH' : error.code === 'TOO_LARGE' ? 'PROTOCOL' : 'CONNECT', error.message);
  }
  return new AdapterError('CLOSED', `cannot read the object: ${(error as Error)?.message ?? String(error)}`);
}

/** Finds and probes `s3/STORAGE/KEY` (percent-encoded); every failure is an AdapterError with a message safe to show. */
export async function openPlayableObject(stores: ReadonlyMap<string, ObjectStore>, encodedName: string, ffmpegPath: string, signal: AbortSignal): Promise<PlayableObject> {
  try {
    const object = await findS3Object(stores, encodedName, signal);
    return { object, info: await probeS3Object(object, ffmpegPath) };
  } catch (error) {
    throw objectFailure(error);
  }
}

/**
 * The object's bytes from its start for one pass, read by ranged GETs as ffmpeg takes them; a bucket that breaks off
 * is retried from where it stopped, each retry logged (the feed shows the error if the retries run out).
 */
export function objectInput(playable: PlayableObject, signal: AbortSignal, log: (message: string) => void): Readable {
  return readObject(playable.object.store, playable.object.info, {
    signal,
    onRetry: (error, delayMs) => log(`${error.message}; reading again from where it stopped in ${delayMs} ms`),
  });
}

/** The local path of the object's whole copy (CachePath), fetched again if the cache has let it go. */
export async function wholeCopyPath(playable: PlayableObject): Promise<string> {
  const cache = playable.object.store.cache;
  if (!cache) throw new AdapterError('PROTOCOL', 'the storage has no CachePath any more');
  try {
    return await cache.fetch(playable.object.info);
  } catch (error) {
    throw objectFailure(error);
  }
}
