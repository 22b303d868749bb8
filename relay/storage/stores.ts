import type { StorageConfig } from '../../conf/types.ts';
import { ObjectCache } from '../../lib/object-cache.ts';
import { ObjectStore, type ObjectStoreStats } from '../../lib/object-store.ts';

/** CacheMaxSize when a block leaves it out (the conf default is the same). */
const DEFAULT_CACHE_BYTES = 2 * 2 ** 30;

/** A bucket's settings as a comparable string: the keys are compared by value but never kept in the string's output. */
function fingerprint(storage: StorageConfig): string {
  return JSON.stringify([storage.endpoint, storage.region, storage.bucket, storage.pathStyle, storage.tlsVerify, storage.accessKey(), storage.secretKey(), storage.cachePath, storage.cacheMaxBytes]);
}

/**
 * The relay's buckets by <Storage> name, kept in step with the config: a block that is new or changed gets a new
 * client, one that is gone has its client closed. The fingerprints stay inside this module.
 */
export class ObjectStores extends Map<string, ObjectStore> {
  private readonly fingerprints = new Map<string, string>();

  constructor(storages: readonly StorageConfig[] = []) {
    super();
    this.sync(storages);
  }

  sync(storages: readonly StorageConfig[]): void {
    for (const name of [...this.keys()]) {
      if (!storages.some((storage) => storage.name === name)) {
        this.get(name)?.close();
        this.delete(name);
        this.fingerprints.delete(name);
      }
    }
    for (const storage of storages) {
      const print = fingerprint(storage);
      if (this.fingerprints.get(storage.name) === print) continue;
      this.get(storage.name)?.close();
      const store = new ObjectStore(storage);
      if (storage.cachePath) store.cache = new ObjectCache(store, storage.cachePath, storage.cacheMaxBytes ?? DEFAULT_CACHE_BYTES);
      this.set(storage.name, store);
      this.fingerprints.set(storage.name, print);
    }
  }

  /** Each bucket's requests, bytes and last error, for /stat.json (no key, no secret). */
  stats(): ObjectStoreStats[] {
    return [...this.values()].map((store) => store.stats());
  }

  close(): void {
    for (const store of this.values()) store.close();
    this.clear();
    this.fingerprints.clear();
  }
}
