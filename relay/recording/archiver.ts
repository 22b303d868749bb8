import { createReadStream } from 'node:fs';
import { stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { backoffDelay, DEFAULT_BACKOFF } from '../../lib/backoff.ts';
import type { Logger } from '../../lib/log.ts';
import { ObjectStoreError, type ObjectStore } from '../../lib/object-store.ts';
import { segmentStart } from './names.ts';
import type { Segment, SegmentIndex } from './segment-index.ts';

/** An archived camera: its bucket and how long the local copy stays. */
export interface ArchivedCamera {
  readonly store: ObjectStore;
  readonly localKeepMs: number;
  readonly segmentMs: number;
}

/** The archive on /stat.json: the upload queue, what went up, what failed, and the oldest segment not yet archived. */
export interface ArchiveStatus {
  queued: number;
  queuedBytes: number;
  uploaded: number;
  uploadedBytes: number;
  failures: number;
  localDeleted: number;
  oldestNotArchived: string | null;
  /** `code` as a camera's: AUTH when the bucket refused the credentials, CONNECT when down, PROTOCOL for an odd answer. */
  lastError: { code: ArchiveErrorCode; message: string; at: string } | null;
  /** Ready once the bucket was listed, so that segments already there are not uploaded again. */
  state: 'listing' | 'ready' | 'failing';
}

export type ArchiveErrorCode = 'AUTH' | 'CONNECT' | 'PROTOCOL' | 'NOT_FOUND' | 'DISK';

const ARCHIVE_CODES: Record<ObjectStoreError['code'], ArchiveErrorCode> = { DENIED: 'AUTH', UNAVAILABLE: 'CONNECT', BAD_ANSWER: 'PROTOCOL', NOT_FOUND: 'NOT_FOUND', TOO_LARGE: 'PROTOCOL' };

/** The retry delay after failure number `attempt`: refused credentials skip the fast phase, as a key is not fixed in a second. */
export function archiveRetryDelay(error: unknown, attempt: number): number {
  const denied = error instanceof ObjectStoreError && error.code === 'DENIED';
  return backoffDelay(DEFAULT_BACKOFF, denied ? Math.max(attempt, DEFAULT_BACKOFF.fastAttempts) : attempt);
}

/**
 * Uploads closed recording segments to each camera's RecordArchive bucket in the background, one at a time, under the
 * key of the segment's own path (CAMERA/DAY/TIME.mp4): the same segment uploaded twice, as after a crash, only
 * overwrites itself. At start the bucket is listed, so what is there already is not sent again, and segments only in
 * the bucket join the index (/record/ finds them). A failed upload is retried with backoff; once a segment is in the
 * bucket (its size checked) and older than RecordLocalKeep, its local copy is deleted.
 */
export class Archiver {
  readonly status: ArchiveStatus = {
    queued: 0, queuedBytes: 0, uploaded: 0, uploadedBytes: 0, failures: 0, localDeleted: 0, oldestNotArchived: null, lastError: null, state: 'listing',
  };
  private busy = false;
  private attempt = 0;
  private retryAt = 0;
  private listed = new Set<string>();
  private readonly stopController = new AbortController();

  constructor(
    private readonly index: SegmentIndex,
    private readonly cameras: ReadonlyMap<string, ArchivedCamera>,
    private readonly log: Logger,
  ) {}

  /** Lists each bucket's segments: those there already are marked archived, those only there join the index. */
  async start(): Promise<void> {
    for (const [camera, { store, segmentMs }] of this.cameras) {
      try {
        for (const object of await store.list(`${camera}/`, this.stopController.signal)) {
          const local = this.index.segments(camera).find((segment) => segment.path === object.key);
          if (local) {
            if (local.bytes === object.size && !local.open) local.archived = true;
            continue;
          }
          const [, day, file, ...extra] = object.key.split('/');
          const start = day && file && extra.length === 0 ? segmentStart(day, file) : undefined;
          if (start === undefined) continue;
          this.index.add({ camera, start, end: start + segmentMs, bytes: object.size, path: object.key, open: false, archived: true, remote: true });
        }
        this.listed.add(camera);
      } catch (error) {
        this.fail(error, `cannot list the archive of ${camera}`);
        this.retryAt = Date.now() + archiveRetryDelay(error, this.attempt++);
      }
    }
    this.status.state = this.status.state === 'failing' ? 'failing' : 'ready';
  }

  /** One step, run every few seconds: counts the queue, deletes expired local copies, starts the next upload. */
  tick(now = Date.now()): void {
    const waiting = this.waiting();
    this.status.queued = waiting.length;
    this.status.queuedBytes = waiting.reduce((sum, segment) => sum + segment.bytes, 0);
    this.status.oldestNotArchived = waiting[0] ? new Date(waiting[0].start).toISOString() : null;
    void this.pruneLocal(now);
    if (this.busy || now < this.retryAt || this.stopController.signal.aborted) return;
    const next = waiting.find((segment) => this.listed.has(segment.camera));
    if (!next) {
      // A camera whose listing failed is listed again before its first upload.
      if (waiting.length > 0 && this.listed.size < this.cameras.size) void this.relist();
      return;
    }
    this.busy = true;
    void this.upload(next).finally(() => {
      this.busy = false;
    });
  }

  /** Deletes an archived segment from the bucket too (RecordDeleteAfter applies to the archive). */
  deleted(segment: Segment): void {
    const archive = this.cameras.get(segment.camera);
    if (!archive || !segment.archived) return;
    archive.store.delete(segment.path).catch((error: unknown) => this.fail(error, `cannot delete ${segment.path} from the archive`));
  }

  stop(): void {
    this.stopController.abort();
  }

  /** The bucket a camera's segments are archived to. */
  storeOf(camera: string): ObjectStore | undefined {
    return this.cameras.get(camera)?.store;
  }

  /** Closed segments of archived cameras not yet in their bucket, oldest first. */
  private waiting(): Segment[] {
    return [...this.cameras.keys()].flatMap((camera) => this.index.segments(camera).filter((segment) => !segment.open && !segment.archived))
      .sort((a, b) => a.start - b.start);
  }

  private async relist(): Promise<void> {
    this.busy = true;
    try {
      await this.start();
    } finally {
      this.busy = false;
    }
  }

  private async upload(segment: Segment): Promise<void> {
    const { store } = this.cameras.get(segment.camera)!;
    const file = join(this.index.root, segment.path);
    try {
      const { size } = await stat(file);
      await store.upload(segment.path, createReadStream(file, { highWaterMark: 256 * 1024 }), size, 'video/mp4', this.stopController.signal);
      const there = await store.head(segment.path, this.stopController.signal);
      if (there.size !== size) throw new ObjectStoreError('BAD_ANSWER', `storage ${store.name}: ${segment.path} has ${there.size} bytes in the bucket, ${size} on disk`);
      segment.archived = true;
      this.status.uploaded++;
      this.status.uploadedBytes += size;
      this.attempt = 0;
      if (this.status.state === 'failing') this.log.info(`archive uploads work again (storage ${store.name})`);
      this.status.state = 'ready';
    } catch (error) {
      if (this.stopController.signal.aborted) return;
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
        // Deleted locally before it could be archived (retention, an operator): nothing left to send.
        this.index.remove(segment);
        return;
      }
      this.fail(error, `cannot archive ${segment.path}`);
      this.retryAt = Date.now() + archiveRetryDelay(error, this.attempt++);
    }
  }

  private async pruneLocal(now: number): Promise<void> {
    for (const [camera, { localKeepMs }] of this.cameras) {
      for (const segment of this.index.segments(camera)) {
        if (!segment.archived || segment.remote || segment.open || segment.end > now - localKeepMs) continue;
        segment.remote = true;
        try {
          await unlink(join(this.index.root, segment.path));
          this.status.localDeleted++;
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code !== 'ENOENT') segment.remote = false;
        }
      }
    }
  }

  private fail(error: unknown, what: string): void {
    const message = `${what}: ${error instanceof ObjectStoreError ? error.message : ((error as NodeJS.ErrnoException).code ?? (error as Error).message)}`;
    this.status.failures++;
    if (this.status.state !== 'failing') this.log.warn(`${message}; retrying with backoff (segments stay on the local disk meanwhile)`);
    this.status.state = 'failing';
    const code = error instanceof ObjectStoreError ? ARCHIVE_CODES[error.code] : 'DISK';
    this.status.lastError = { code, message, at: new Date().toISOString() };
  }
}
