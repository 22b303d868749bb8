import { rmdirSync, statfsSync, unlinkSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Logger } from '../../lib/log.ts';
import type { EventSink } from '../../lib/event-bus.ts';
import type { Segment, SegmentIndex } from './segment-index.ts';

/** Why a segment was deleted, as /stat.json and /metrics count it. */
export type DeletionReason = 'age' | 'cameraSize' | 'totalSize' | 'freeSpace';
export const DELETION_REASONS: readonly DeletionReason[] = ['age', 'cameraSize', 'totalSize', 'freeSpace'];

/** The limits retention applies; per camera for the cameras the config records. */
export interface RetentionLimits {
  readonly cameras: ReadonlyMap<string, { readonly deleteAfterMs: number; readonly maxBytes: number }>;
  readonly maxTotalBytes: number;
  readonly minFreeBytes: number;
}

/** Free bytes on the file system holding `path` (for unprivileged users), or undefined when it cannot be read. */
export type FreeSpace = (path: string) => number | undefined;

export const statfsFreeSpace: FreeSpace = (path) => {
  try {
    const info = statfsSync(path);
    return info.bavail * info.bsize;
  } catch {
    return undefined;
  }
};

/**
 * Deletes recordings so the disk never fills: by age first, then oldest first over each camera's cap, over the total
 * cap, and while the file system has less than the free-space floor. The segment being written is never deleted.
 */
export class Retention {
  readonly deletions: Record<DeletionReason, { files: number; bytes: number }> = {
    age: { files: 0, bytes: 0 }, cameraSize: { files: 0, bytes: 0 }, totalSize: { files: 0, bytes: 0 }, freeSpace: { files: 0, bytes: 0 },
  };
  deleteErrors = 0;
  freeBytes: number | undefined;
  /** Told when the disk falls below RecordMinFreeSpace (once until it is above again). */
  events: EventSink | undefined;
  private diskLow = false;
  /** Told of each segment deleted (the archive deletes its copy in the bucket too). */
  onDeleted: ((segment: Segment) => void) | undefined;

  constructor(
    private readonly index: SegmentIndex,
    private limits: RetentionLimits,
    private readonly log: Logger,
    private readonly freeSpace: FreeSpace = statfsFreeSpace,
  ) {}

  /** One pass; logs one line when it deleted anything. */
  run(now = Date.now()): void {
    const pass: Record<DeletionReason, { files: number; bytes: number }> = {
      age: { files: 0, bytes: 0 }, cameraSize: { files: 0, bytes: 0 }, totalSize: { files: 0, bytes: 0 }, freeSpace: { files: 0, bytes: 0 },
    };
    const remove = (segment: Segment, reason: DeletionReason): boolean => {
      if (!this.delete(segment, reason)) return false;
      pass[reason].files++;
      pass[reason].bytes += segment.bytes;
      return true;
    };
    for (const [camera, { deleteAfterMs }] of this.limits.cameras) {
      if (deleteAfterMs <= 0) continue;
      for (const segment of [...this.index.segments(camera)]) {
        if (segment.start >= now - deleteAfterMs) break;
        if (!segment.open && segment.end < now - deleteAfterMs) remove(segment, 'age');
      }
    }
    for (const [camera, { maxBytes }] of this.limits.cameras) {
      if (maxBytes > 0) this.trim(() => this.index.segments(camera).filter((segment) => !segment.remote), maxBytes, (segment) => remove(segment, 'cameraSize'));
    }
    if (this.limits.maxTotalBytes > 0) this.trim(() => this.oldestFirst(), this.limits.maxTotalBytes, (segment) => remove(segment, 'totalSize'));
    this.freeBytes = this.freeSpace(this.index.root);
    if (this.freeBytes !== undefined && (this.freeBytes < this.limits.minFreeBytes) !== this.diskLow) this.noteDiskLow(!this.diskLow);
    if (this.freeBytes !== undefined && this.freeBytes < this.limits.minFreeBytes) {
      let free = this.freeBytes;
      for (const segment of this.oldestFirst()) {
        if (free >= this.limits.minFreeBytes) break;
        if (!segment.open && remove(segment, 'freeSpace')) free += segment.bytes;
      }
      this.freeBytes = this.freeSpace(this.index.root) ?? free;
    }
    const parts = DELETION_REASONS.filter((reason) => pass[reason].files > 0).map((reason) => {
      this.deletions[reason].files += pass[reason].files;
      this.deletions[reason].bytes += pass[reason].bytes;
      return `${pass[reason].files} file(s), ${pass[reason].bytes} bytes by ${describe(reason, this.limits)}`;
    });
    if (parts.length > 0) this.log.info(`retention deleted ${parts.join('; ')}`);
  }

  private noteDiskLow(low: boolean): void {
    this.diskLow = low;
    if (low) this.events?.emit('disk.low', this.index.root, `${this.freeBytes} bytes free, below RecordMinFreeSpace ${this.limits.minFreeBytes}: the oldest recordings are being deleted`);
  }

  /** Deletes closed segments oldest first while the listed segments hold more than `cap` bytes. */
  private trim(list: () => readonly Segment[], cap: number, remove: (segment: Segment) => boolean): void {
    let total = list().reduce((sum, segment) => sum + segment.bytes, 0);
    for (const segment of [...list()]) {
      if (total <= cap) break;
      if (!segment.open && remove(segment)) total -= segment.bytes;
    }
  }

  /** Segments on the local disk, oldest first: the size and free-space rules are about the disk (archived-only ones are not on it). */
  private oldestFirst(): Segment[] {
    return this.index.all().filter((segment) => !segment.remote).sort((a, b) => a.start - b.start);
  }

  /** Deletes a segment; the size and free-space rules only drop an archived segment's local copy (the bucket keeps it). */
  private delete(segment: Segment, reason: DeletionReason): boolean {
    const file = join(this.index.root, segment.path);
    try {
      if (!segment.remote) unlinkSync(file);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') {
        this.deleteErrors++;
        this.log.error(`retention cannot delete ${segment.path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
        return false;
      }
    }
    if (segment.archived && reason !== 'age') segment.remote = true;
    else {
      this.index.remove(segment);
      this.onDeleted?.(segment);
    }
    try {
      rmdirSync(dirname(file)); // only succeeds once the day folder is empty
    } catch {
      // not empty yet
    }
    return true;
  }
}

function describe(reason: DeletionReason, limits: RetentionLimits): string {
  if (reason === 'age') return 'age (RecordDeleteAfter)';
  if (reason === 'cameraSize') return 'camera size (RecordMaxSize)';
  if (reason === 'totalSize') return `total size (RecordMaxTotalSize ${limits.maxTotalBytes})`;
  return `free space (RecordMinFreeSpace ${limits.minFreeBytes})`;
}
