import { statSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '../../lib/log.ts';
import { scanFragmentedMp4 } from './mp4-scan.ts';
import { CAMERA_DIR, isDayDir, segmentStart } from './names.ts';

/** One recorded file. `end` is the end of its media; `open` while the recorder is still writing it. */
export interface Segment {
  readonly camera: string;
  readonly start: number;
  end: number;
  bytes: number;
  /** Path relative to RecordPath. */
  readonly path: string;
  open: boolean;
  /** In the camera's archive bucket (RecordArchive), under the key `path`. */
  archived?: boolean;
  /** Only in the bucket: the local copy was deleted after RecordLocalKeep. */
  remote?: boolean;
}

/** A run of recording without a gap, as /record/list shows it. */
export interface Span {
  readonly start: number;
  readonly end: number;
}

/** Segments closer than this are one span: the next segment starts when the previous one's last frame ends. */
const MERGE_TOLERANCE_MS = 1500;
/** A file this small holds no whole fragment: it covers no time, but its bytes still count for retention. */
const EMPTY_FILE_BYTES = 1024;
/** Longest a segment can be when its camera's RecordSegmentSeconds is unknown: the largest setting plus a minute. */
const DEFAULT_MAX_SEGMENT_MS = 3_660_000;

function fileExists(path: string): boolean {
  try {
    statSync(path);
    return true;
  } catch (error) {
    // Only a file that is not there is gone; a disk error is not a reason to forget a recording.
    return (error as NodeJS.ErrnoException).code !== 'ENOENT';
  }
}

/** Index of position of the first segment of `list` whose end is after `time` (binary search on start order). */
function firstEndingAfter(list: readonly Segment[], time: number): number {
  let low = 0;
  let high = list.length;
  while (low < high) {
    const mid = (low + high) >> 1;
    // Starts are sorted and segments do not nest, so ends are sorted too (up to overlaps after a clock jump).
    if (list[mid]!.end <= time) low = mid + 1;
    else high = mid;
  }
  return Math.max(0, low - 1);
}

/**
 * Every segment on disk per camera, sorted by start. Built from the files at startup (the files are the truth) and kept
 * in step by the recorder and retention, so that listing reads memory only.
 */
export class SegmentIndex {
  private readonly byCamera = new Map<string, Segment[]>();
  private readonly checkedAt = new WeakMap<Segment, number>();

  constructor(readonly root: string) {}

  get cameras(): string[] {
    return [...this.byCamera.keys()];
  }

  segments(camera: string): readonly Segment[] {
    return this.byCamera.get(camera) ?? [];
  }

  all(): Segment[] {
    return [...this.byCamera.values()].flat();
  }

  add(segment: Segment): void {
    const list = this.byCamera.get(segment.camera) ?? [];
    this.byCamera.set(segment.camera, list);
    let at = list.length;
    while (at > 0 && list[at - 1]!.start > segment.start) at--;
    list.splice(at, 0, segment);
  }

  remove(segment: Segment): void {
    const list = this.byCamera.get(segment.camera);
    const at = list?.indexOf(segment) ?? -1;
    if (list && at >= 0) list.splice(at, 1);
  }

  /**
   * Drops the closed segments of `camera` overlapping [from, to) whose file is gone (deleted outside the relay), so
   * that lists and exports never name them; returns how many went. A file found is not looked for again within
   * `recheckMs` (a list of a long archive must not stat every file at each refresh).
   */
  dropVanished(camera: string, from: number, to: number, recheckMs = 0, now = Date.now()): number {
    let dropped = 0;
    for (const segment of this.overlapping(camera, from, to)) {
      if (segment.open || segment.remote || now - (this.checkedAt.get(segment) ?? -Infinity) < recheckMs) continue;
      this.checkedAt.set(segment, now);
      if (fileExists(join(this.root, segment.path))) continue;
      this.remove(segment);
      dropped++;
    }
    return dropped;
  }

  has(camera: string, start: number): boolean {
    return this.segments(camera).some((segment) => segment.start === start);
  }

  /** Segments of `camera` that overlap [from, to). */
  overlapping(camera: string, from: number, to: number): Segment[] {
    const list = this.segments(camera);
    const found: Segment[] = [];
    for (let i = firstEndingAfter(list, from); i < list.length && list[i]!.start < to; i++) {
      const segment = list[i]!;
      if (segment.end > from && segment.end > segment.start) found.push(segment);
    }
    return found;
  }

  /** Spans of recording of `camera` within [from, to): adjacent segments merged, gaps splitting them, clipped to the range. */
  spans(camera: string, from: number, to: number): Span[] {
    const spans: Array<{ start: number; end: number }> = [];
    for (const segment of this.overlapping(camera, from, to)) {
      const start = Math.max(from, segment.start);
      const end = Math.min(to, segment.end);
      const last = spans.at(-1);
      if (last && start <= last.end + MERGE_TOLERANCE_MS) last.end = Math.max(last.end, end);
      else spans.push({ start, end });
    }
    return spans;
  }

  /**
   * Reads RECORDPATH/CAMERA/DAY/FILE.mp4 into the index. A segment ends where the next one starts, or earlier when the
   * file was last written before that (an outage) or the segment would be longer than its camera's segments can be
   * (`maxSegmentMs`: a copied archive has no true modification times); the last segment of each camera is scanned for its whole fragments,
   * so a file cut short by a crash is indexed up to where it plays. Foreign files and folders are skipped.
   */
  async build(log: Logger, maxSegmentMs: (camera: string) => number = () => DEFAULT_MAX_SEGMENT_MS): Promise<void> {
    this.byCamera.clear();
    for (const camera of await readdirOrEmpty(this.root)) {
      if (!CAMERA_DIR.test(camera)) continue;
      const found: Array<Segment & { mtime: number }> = [];
      for (const day of (await readdirOrEmpty(join(this.root, camera))).filter(isDayDir)) {
        for (const file of await readdirOrEmpty(join(this.root, camera, day))) {
          const start = segmentStart(day, file);
          if (start === undefined) continue;
          const path = join(camera, day, file);
          // Synchronous stats: tens of thousands of small promises cost more than the system calls themselves.
          const info = statSync(join(this.root, path), { throwIfNoEntry: false });
          if (info?.isFile()) found.push({ camera, start, end: start, bytes: info.size, path, open: false, mtime: info.mtimeMs });
        }
      }
      found.sort((a, b) => a.start - b.start);
      for (let i = 0; i < found.length; i++) {
        const segment = found[i]!;
        const next = found[i + 1];
        if (segment.bytes < EMPTY_FILE_BYTES) segment.end = segment.start;
        else if (next) segment.end = Math.max(segment.start, Math.min(next.start, segment.mtime, segment.start + maxSegmentMs(camera)));
        else segment.end = segment.start + (await scannedDurationMs(this.root, segment, log));
      }
      if (found.length > 0) this.byCamera.set(camera, found.map(({ mtime: _mtime, ...segment }) => segment));
    }
  }
}

async function scannedDurationMs(root: string, segment: Segment, log: Logger): Promise<number> {
  try {
    const scan = await scanFragmentedMp4(join(root, segment.path));
    if (scan.truncated) log.warn(`${segment.path} ends inside a box (cut short); indexed up to its last whole fragment (${scan.durationSeconds.toFixed(1)} s)`);
    return Math.round(scan.durationSeconds * 1000);
  } catch (error) {
    log.warn(`${segment.path} is not a readable recording (${(error as Error).message}); kept for retention, not listed`);
    return 0;
  }
}

async function readdirOrEmpty(path: string): Promise<string[]> {
  try {
    return await readdir(path);
  } catch {
    return [];
  }
}
