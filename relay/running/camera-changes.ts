import type { CameraConfig } from '../../conf/types.ts';
import { sameExceptLine } from '../../conf/same.ts';

/**
 * A camera's settings its connection and its streams are built from: everything but Record* (its recorder's) and
 * Control* (its control's), so that a reload changing only those leaves the camera and its viewers alone.
 */
function feedSettings(camera: CameraConfig): object {
  const { record: _record, control: _control, ...feed } = camera;
  return feed;
}

/** True when a reload from `before` to `after` can keep the camera's connection, encoders and streams running. */
export function sameFeed(before: CameraConfig, after: CameraConfig): boolean {
  return sameExceptLine(feedSettings(before), feedSettings(after));
}

/**
 * True when a reload can keep the camera's recorder writing its open segment: same camera connection and same Record*
 * settings, except RecordDeleteAfter and RecordMaxSize, which only retention reads (and it follows the new config).
 */
export function sameRecorder(before: CameraConfig, after: CameraConfig): boolean {
  const recorded = (camera: CameraConfig): object => ({ ...camera.record, deleteAfterMs: 0, maxBytes: 0 });
  return sameFeed(before, after) && sameExceptLine(recorded(before), recorded(after));
}

/**
 * What a reload from `before` to `after` does to the cameras: those to restart (new, or changed beyond Record* and
 * Control*), and those that run on with only their recording or control settings changed.
 */
export function cameraChanges(before: readonly CameraConfig[], after: readonly CameraConfig[]): { restart: Set<string>; retuned: string[] } {
  const restart = new Set<string>();
  const retuned: string[] = [];
  for (const camera of after) {
    const old = before.find((candidate) => candidate.name === camera.name);
    if (!old || !sameFeed(old, camera)) restart.add(camera.name);
    else if (!sameExceptLine(old, camera)) retuned.push(camera.name);
  }
  return { restart, retuned };
}
