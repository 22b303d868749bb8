import type { ParsedBlock, Problems } from './parse.ts';
import type { CameraConfig } from './types.ts';

/**
 * Checks the publish keys across cameras: push:// cameras need at least one, other cameras take none, and a key
 * names one camera only (the gateway finds the camera by its key). Messages never contain a key.
 */
export function checkPublishKeys(cameras: readonly CameraConfig[], blocks: readonly ParsedBlock[], problems: Problems): void {
  const owner = new Map<string, string>();
  for (const camera of cameras) {
    const block = blocks.find((candidate) => candidate.kind === 'Camera' && candidate.name === camera.name);
    const keyLine = block?.values.get('PublishKey')?.line ?? camera.line;
    const followLine = block?.values.get('FollowSSRC')?.line;
    if (camera.scheme !== 'push') {
      if (camera.publishKeys.length > 0) problems.error(keyLine, `PublishKey: applies to push:// cameras only (<Camera ${camera.name}> is ${camera.scheme}://)`);
      if (followLine !== undefined) problems.error(followLine, `FollowSSRC: applies to push:// cameras only (<Camera ${camera.name}> is ${camera.scheme}://)`);
      continue;
    }
    if (camera.publishKeys.length === 0) {
      problems.error(camera.line, `<Camera ${camera.name}>: a push:// camera needs at least one PublishKey (the secret its publisher presents)`);
    }
    for (const key of camera.publishKeys) {
      const first = owner.get(key);
      if (first !== undefined) problems.error(keyLine, `PublishKey: the same key is already given to <Camera ${first}>; each key names one camera`);
      else owner.set(key, camera.name);
    }
  }
}
