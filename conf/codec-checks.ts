import type { ParsedBlock, Problems } from './parse.ts';
import type { CameraConfig, StreamConfig } from './types.ts';

/** Schemes whose cameras send nothing but JPEG (the Canon VB-C10), so `copy` of their H.264 can never work. */
const JPEG_ONLY_SCHEMES = new Set(['vbc']);

/** An HTTP camera whose URL names a JPEG or MJPEG resource (video.mjpg, snapshot.jpg) sends JPEG, not FLV. */
const JPEG_PATH = /\.(mjpe?g|jpe?g)$/i;

function sendsOnlyJpeg(camera: CameraConfig): boolean {
  if (JPEG_ONLY_SCHEMES.has(camera.scheme)) return true;
  return (camera.scheme === 'http' || camera.scheme === 'https') && JPEG_PATH.test(new URL(camera.source).pathname);
}

function lineIn(blocks: readonly ParsedBlock[], kind: string, name: string, directive: string, fallback: number): number {
  return blocks.find((block) => block.kind === kind && block.name === name)?.values.get(directive)?.line ?? fallback;
}

/**
 * Refuses `RecordCodec copy` and `VideoCodec copy` on cameras known to send JPEG (by scheme, or by an HTTP URL's extension). Other cameras are only known at
 * run time (an RTSP or HTTP camera may send either); for them the passthrough reports the mismatch on /stat.json.
 */
export function checkCopyCodecs(cameras: readonly CameraConfig[], streams: readonly StreamConfig[], blocks: readonly ParsedBlock[], problems: Problems): void {
  for (const camera of cameras) {
    if (!sendsOnlyJpeg(camera)) continue;
    if (camera.record.codec === 'copy') {
      problems.error(lineIn(blocks, 'Camera', camera.name, 'RecordCodec', camera.line),
        `RecordCodec copy: <Camera ${camera.name}> (${camera.scheme}://) sends JPEG, and copy records the camera's H.264 unchanged; use libx264`);
    }
    for (const stream of streams) {
      if (stream.feed !== camera.name || stream.videoCodec !== 'copy') continue;
      problems.error(lineIn(blocks, 'Stream', stream.name, 'VideoCodec', stream.line),
        `VideoCodec copy: <Stream ${stream.name}> shows <Camera ${camera.name}> (${camera.scheme}://), which sends JPEG; copy passes the camera's H.264 on unchanged; use libx264`);
    }
  }
}
