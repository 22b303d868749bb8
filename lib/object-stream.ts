import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { backoffDelay, DEFAULT_BACKOFF } from './backoff.ts';
import { ObjectStoreError, type ObjectInfo, type ObjectStore } from './object-store.ts';

/** Bytes asked for per ranged GET: a reader holds at most about one of these beyond what its consumer took. */
export const RANGE_BYTES = 2 * 1024 * 1024;
/** Consecutive failed attempts at one range before the read gives up (about 10 s of backoff). */
const MAX_ATTEMPTS = 10;

export interface ObjectReadOptions {
  readonly start?: number;
  /** Exclusive end; the object's size when left out. */
  readonly end?: number;
  readonly signal?: AbortSignal;
  /** Bytes asked for per GET; RANGE_BYTES when left out (a whole-object copy asks for everything at once). */
  readonly rangeBytes?: number;
  /** Told of each failed attempt that will be retried, with the delay before the retry. */
  readonly onRetry?: (error: ObjectStoreError, delayMs: number) => void;
}

/**
 * An object read front to back by ranged GETs of RANGE_BYTES, as its consumer takes the bytes (a Readable pulls the
 * next chunk only when asked, so memory stays at about one range whatever the object's size). A body cut mid-way,
 * a 5xx or a bucket that is down is retried from the byte where it stopped, with backoff; an object that changes
 * (another ETag) or disappears while being read ends the stream with an error.
 */
export function readObject(store: ObjectStore, info: ObjectInfo, options: ObjectReadOptions = {}): Readable {
  return Readable.from(chunks(store, info, options), { objectMode: false, highWaterMark: 64 * 1024 });
}

async function* chunks(store: ObjectStore, info: ObjectInfo, options: ObjectReadOptions): AsyncGenerator<Buffer> {
  const end = Math.min(options.end ?? info.size, info.size);
  let offset = options.start ?? 0;
  let failures = 0;
  while (offset < end) {
    options.signal?.throwIfAborted();
    const rangeEnd = Math.min(offset + (options.rangeBytes ?? RANGE_BYTES), end) - 1;
    try {
      const { body, info: now } = await store.getRange(info.key, offset, rangeEnd, options.signal);
      if (info.etag && now.etag && now.etag !== info.etag) {
        body.destroy();
        throw new ObjectStoreError('NOT_FOUND', `storage ${store.name}: the object was replaced while being read`);
      }
      for await (const chunk of body) {
        const buffer = chunk as Buffer;
        offset += buffer.length;
        store.noteBytesRead(buffer.length);
        failures = 0;
        yield buffer;
      }
      if (offset <= rangeEnd) throw new ObjectStoreError('UNAVAILABLE', `storage ${store.name}: the answer ended early`);
    } catch (error) {
      if (options.signal?.aborted) throw error;
      const failure = error instanceof ObjectStoreError ? error : new ObjectStoreError('UNAVAILABLE', `storage ${store.name}: the connection broke (${(error as NodeJS.ErrnoException).code ?? (error as Error).name})`);
      if (!(error instanceof ObjectStoreError)) store.noteFailure(failure);
      if (!failure.retryable || ++failures >= MAX_ATTEMPTS) throw failure;
      const delay = backoffDelay(DEFAULT_BACKOFF, failures - 1);
      options.onRetry?.(failure, delay);
      await sleep(delay, undefined, { signal: options.signal });
    }
  }
}
