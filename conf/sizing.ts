import type { ParsedBlock, Problems } from './parse.ts';
import type { CameraConfig, Size } from './types.ts';

const DAY_MS = 86_400_000;

/** Bits per pixel per frame the default recording bit rate allows: enough for libx264 on a typical webcam scene. */
const DEFAULT_BITS_PER_PIXEL = 0.1;
/** The frame rate assumed when RecordFrameRate keeps the camera's own (most IP cameras send 25 or 30). */
const ASSUMED_CAMERA_RATE = 25;

/**
 * RecordBitRate when the Camera block gives none: with RecordSize known, 0.1 bit per pixel per frame at RecordFrameRate
 * (25 when it keeps the camera's rate), at least 64 kbit/s; without RecordSize the camera's size is unknown until it
 * sends, and the default stays `fallback`.
 */
export function defaultRecordBitRate(size: Size | undefined, frameRate: number, fallback: number): number {
  if (!size) return fallback;
  const kbps = (size.width * size.height * (frameRate > 0 ? frameRate : ASSUMED_CAMERA_RATE) * DEFAULT_BITS_PER_PIXEL) / 1000;
  return Math.min(100_000, Math.max(64, Math.round(kbps)));
}

/** Bytes per second a camera's recording writes, or undefined when it records the camera's own stream (copy). */
export function recordBytesPerSecond(camera: CameraConfig): number | undefined {
  if (!camera.record.enabled || camera.record.codec === 'copy') return undefined;
  return (camera.record.bitRate * 1000) / 8;
}

/** Bytes per day a camera's recording writes at its configured bit rate, or undefined (copy, or not recording). */
export function recordBytesPerDay(camera: CameraConfig): number | undefined {
  const rate = recordBytesPerSecond(camera);
  return rate === undefined ? undefined : (rate * DAY_MS) / 1000;
}

/** "1.2G", "500M", "640k": binary units, as relay.conf writes sizes. */
export function formatSize(bytes: number): string {
  const units = ['', 'k', 'M', 'G', 'T'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value >= 100 || unit === 0 ? Math.round(value) : value.toFixed(1)}${units[unit]}`;
}

function trim(fixed: string): string {
  return fixed.replace(/\.0$/, '');
}

/** "45 min", "1.1 h", "6.9 d", "7 d". */
export function formatSpan(ms: number): string {
  if (ms < 3_600_000) return `${Math.max(1, Math.round(ms / 60_000))} min`;
  if (ms < 2 * DAY_MS) return `${trim((ms / 3_600_000).toFixed(1))} h`;
  return `${trim((ms / DAY_MS).toFixed(1))} d`;
}

function lineOf(blocks: readonly ParsedBlock[], camera: CameraConfig, directive: string): number {
  return blocks.find((block) => block.kind === 'Camera' && block.name === camera.name)?.values.get(directive)?.line ?? camera.line;
}

/**
 * Warns when a size cap fills before RecordDeleteAfter: the cap then deletes first, and the age the operator asked
 * for is never reached. Sizes come from RecordBitRate; cameras recorded with copy have no known rate and are left out.
 */
export function checkRecordSizing(
  cameras: readonly CameraConfig[],
  blocks: readonly ParsedBlock[],
  total: { bytes: number; line: number | undefined },
  problems: Problems,
): void {
  for (const camera of cameras) {
    const rate = recordBytesPerSecond(camera);
    const { maxBytes, deleteAfterMs, bitRate } = camera.record;
    if (rate === undefined || maxBytes === 0 || deleteAfterMs === 0) continue;
    const holdsMs = (maxBytes / rate) * 1000;
    if (holdsMs >= deleteAfterMs) continue;
    problems.warn(lineOf(blocks, camera, 'RecordMaxSize'),
      `RecordMaxSize ${formatSize(maxBytes)} holds about ${formatSpan(holdsMs)} of <Camera ${camera.name}> at ${bitRate} kbit/s, ` +
      `so RecordDeleteAfter ${formatSpan(deleteAfterMs)} is never reached (that needs about ${formatSize((rate * deleteAfterMs) / 1000)})`);
  }
  const recorded = cameras.filter((camera) => recordBytesPerSecond(camera) !== undefined && camera.record.deleteAfterMs > 0);
  if (total.bytes === 0 || recorded.length === 0) return;
  const rate = recorded.reduce((sum, camera) => sum + recordBytesPerSecond(camera)!, 0);
  const holdsMs = (total.bytes / rate) * 1000;
  const needed = recorded.reduce((sum, camera) => sum + (recordBytesPerSecond(camera)! * camera.record.deleteAfterMs) / 1000, 0);
  if (needed <= total.bytes) return;
  problems.warn(total.line ?? 0,
    `RecordMaxTotalSize ${formatSize(total.bytes)} holds about ${formatSpan(holdsMs)} of all ${recorded.length} recorded camera(s) together, ` +
    `less than their RecordDeleteAfter asks for (that needs about ${formatSize(needed)})`);
}
