import { join } from 'node:path';

/** Camera folder names: the same rule as camera names in relay.conf, so no name can climb out of RecordPath. */
export const CAMERA_DIR = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
const DAY_DIR = /^(\d{4})-(\d{2})-(\d{2})$/;
const SEGMENT_FILE = /^(\d{2})-(\d{2})-(\d{2})\.(\d{3})\.mp4$/;

/** The path of a segment starting at `startMs` (UTC), relative to RecordPath: CAMERA/YYYY-MM-DD/HH-MM-SS.mmm.mp4. */
export function segmentRelativePath(camera: string, startMs: number): string {
  const iso = new Date(startMs).toISOString(); // 2026-11-21T12:00:00.123Z
  return join(camera, iso.slice(0, 10), `${iso.slice(11, 19).replaceAll(':', '-')}.${iso.slice(20, 23)}.mp4`);
}

/** True for a day folder name. */
export function isDayDir(name: string): boolean {
  return DAY_DIR.test(name);
}

/** The UTC start a segment's day folder and file name stand for, or undefined when they are not ours. */
export function segmentStart(day: string, file: string): number | undefined {
  const d = DAY_DIR.exec(day);
  const f = SEGMENT_FILE.exec(file);
  if (!d || !f) return undefined;
  const ms = Date.UTC(Number(d[1]), Number(d[2]) - 1, Number(d[3]), Number(f[1]), Number(f[2]), Number(f[3]), Number(f[4]));
  // Reject names that Date.UTC silently rolls over (2026-02-31, 25-00-00): they were not written by the recorder.
  return Number.isFinite(ms) && segmentRelativePath('x', ms) === join('x', day, file) ? ms : undefined;
}
