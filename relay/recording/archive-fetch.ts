import { createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { ObjectStoreError } from '../../lib/object-store.ts';
import { readObject } from '../../lib/object-stream.ts';
import type { Recordings } from './recordings.ts';
import type { Segment } from './segment-index.ts';
import { RecordingApiError } from './api.ts';

/** A folder laid out like RecordPath holding the segments of one export, and its removal. */
export interface SegmentCopies {
  readonly root: string;
  cleanup(): Promise<void>;
}

/**
 * The segments of an export where ffmpeg can open them: RecordPath itself when all are on the local disk; else a
 * temporary folder where local segments are linked and archived-only ones are fetched from the bucket (at most
 * RecordMaxRequestSeconds of video, by ranged reads, never whole in memory).
 */
export async function segmentCopies(recordings: Recordings, segments: readonly Segment[]): Promise<SegmentCopies> {
  const root = recordings.index.root;
  if (!segments.some((segment) => segment.remote)) return { root, cleanup: async () => {} };
  const dir = await mkdtemp(join(tmpdir(), 'relay-archive-'));
  const cleanup = (): Promise<void> => rm(dir, { recursive: true, force: true });
  try {
    for (const segment of segments) {
      const target = join(dir, segment.path);
      await mkdir(dirname(target), { recursive: true });
      if (!segment.remote) {
        await symlink(join(root, segment.path), target);
        continue;
      }
      const store = recordings.archiver?.storeOf(segment.camera);
      if (!store) throw new RecordingApiError(503, 'ARCHIVE_UNAVAILABLE', 'the archive of this camera is not configured');
      const info = await store.head(segment.path);
      await pipeline(readObject(store, info), createWriteStream(target));
    }
    return { root: dir, cleanup };
  } catch (error) {
    await cleanup();
    if (error instanceof ObjectStoreError) throw new RecordingApiError(503, 'ARCHIVE_UNAVAILABLE', `cannot read archived recordings: ${error.message}`);
    throw error;
  }
}
