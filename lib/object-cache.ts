import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, readdir, rename, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { ObjectStoreError, type ObjectInfo, type ObjectStore } from './object-store.ts';
import { readObject } from './object-stream.ts';

/** The cache's own files: whole copies, and copies being downloaded (removed at start, left from a crash). */
const COPY_FILE = /^[0-9a-f]{64}\.copy$/;
const PART_FILE = /^[0-9a-f]{64}\.part-[0-9a-f]{8}$/;

interface Copy {
  readonly bytes: number;
  usedAt: number;
}

const sha256 = (parts: readonly unknown[]): string => createHash('sha256').update(JSON.stringify(parts)).digest('hex');

/**
 * Whole copies of a bucket's objects on the local disk, for MP4 files whose index (moov) is at the end and so cannot
 * play while they download. The directory is bounded by size (least recently used copy deleted first; an object larger
 * than the cap is refused before any byte is read); each file is named by a hash of the object's bucket, key and version
 * (ETag, Last-Modified, size), so no key can name a path and a changed object is downloaded again. Every viewer of an
 * object waits for the same download, which is streamed to a temporary file, never held in memory.
 */
export class ObjectCache {
  private readonly copies = new Map<string, Copy>();
  private readonly downloads = new Map<string, Promise<string>>();
  /** Each key's newest copy, so that an older version is deleted once a newer one is in. */
  private readonly newest = new Map<string, string>();
  private reservedBytes = 0;
  private ready: Promise<void> | undefined;
  private readonly closing = new AbortController();

  constructor(private readonly store: ObjectStore, readonly dir: string, readonly maxBytes: number) {}

  /** The path of a whole local copy of the object, downloaded first unless one of this version is there. */
  async fetch(info: ObjectInfo): Promise<string> {
    try {
      return await this.copyOf(info);
    } catch (error) {
      if (error instanceof ObjectStoreError || this.closing.signal.aborted) throw error;
      // A local disk failure: its code only, as the path of the directory is not shown to viewers.
      throw new ObjectStoreError('UNAVAILABLE', `storage ${this.store.name}: the cache directory cannot be used (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
    }
  }

  private async copyOf(info: ObjectInfo): Promise<string> {
    await (this.ready ??= this.adopt().catch((error: unknown) => {
      this.ready = undefined;
      throw error;
    }));
    const name = `${sha256([this.store.options.endpoint, this.store.options.bucket, info.key, info.etag, info.lastModified?.getTime(), info.size])}.copy`;
    const copy = this.copies.get(name);
    if (copy) {
      const there = await stat(join(this.dir, name)).then((found) => found.size === copy.bytes, () => false);
      if (there) {
        copy.usedAt = Date.now();
        return join(this.dir, name);
      }
      this.copies.delete(name);
    }
    let download = this.downloads.get(name);
    if (!download) {
      download = this.download(info, name).finally(() => this.downloads.delete(name));
      this.downloads.set(name, download);
    }
    return download;
  }

  /** Bytes of the copies on disk. */
  get bytes(): number {
    let total = 0;
    for (const copy of this.copies.values()) total += copy.bytes;
    return total;
  }

  /** Ends the downloads under way (their temporary files are removed). */
  close(): void {
    this.closing.abort();
  }

  private async download(info: ObjectInfo, name: string): Promise<string> {
    const storage = this.store.name;
    if (info.size > this.maxBytes) {
      throw new ObjectStoreError('TOO_LARGE', `storage ${storage}: the object is ${info.size} bytes, more than the ${this.maxBytes} of CacheMaxSize`);
    }
    await this.makeRoom(info.size);
    this.reservedBytes += info.size;
    const part = join(this.dir, `${name.slice(0, 64)}.part-${randomBytes(4).toString('hex')}`);
    try {
      // One GET of the whole object (resumed from where it stopped if the connection breaks).
      await pipeline(readObject(this.store, info, { rangeBytes: Math.max(1, info.size), signal: this.closing.signal }), createWriteStream(part, { flags: 'wx' }));
      const { size } = await stat(part);
      if (size !== info.size) throw new ObjectStoreError('UNAVAILABLE', `storage ${storage}: the copy has ${size} bytes, the object ${info.size}`);
      await rename(part, join(this.dir, name));
      this.copies.set(name, { bytes: size, usedAt: Date.now() });
      const keyId = sha256([this.store.options.endpoint, this.store.options.bucket, info.key]);
      const older = this.newest.get(keyId);
      if (older && older !== name) await this.remove(older);
      this.newest.set(keyId, name);
      return join(this.dir, name);
    } catch (error) {
      await unlink(part).catch(() => undefined);
      throw error;
    } finally {
      this.reservedBytes -= info.size;
    }
  }

  /** Deletes the least recently used copies until `bytes` more fit under the cap. */
  private async makeRoom(bytes: number): Promise<void> {
    const oldestFirst = [...this.copies].sort((a, b) => a[1].usedAt - b[1].usedAt).map(([name]) => name);
    while (this.bytes + this.reservedBytes + bytes > this.maxBytes && oldestFirst.length > 0) await this.remove(oldestFirst.shift()!);
    if (this.bytes + this.reservedBytes + bytes > this.maxBytes) {
      throw new ObjectStoreError('UNAVAILABLE', `storage ${this.store.name}: the cache is full of downloads under way (CacheMaxSize ${this.maxBytes} bytes)`);
    }
  }

  /** A copy being played stays readable by the player that has it open (the file is only unlinked). */
  private async remove(name: string): Promise<void> {
    this.copies.delete(name);
    await unlink(join(this.dir, name)).catch(() => undefined);
  }

  /** Creates the directory, removes half-done downloads, and counts the copies a previous run left (LRU by mtime). */
  private async adopt(): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    for (const name of await readdir(this.dir)) {
      if (PART_FILE.test(name)) await unlink(join(this.dir, name)).catch(() => undefined);
      else if (COPY_FILE.test(name)) {
        const found = await stat(join(this.dir, name)).catch(() => undefined);
        if (found?.isFile()) this.copies.set(name, { bytes: found.size, usedAt: found.mtimeMs });
      }
    }
    if (this.bytes > this.maxBytes) await this.makeRoom(0);
  }
}
