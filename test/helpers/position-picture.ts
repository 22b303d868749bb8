import { spawn } from 'node:child_process';
import { DrawnMjpegCamera } from './drawn-mjpeg-camera.ts';
import type { CanonControlCamera } from './canon-control-camera.ts';
import type { OnvifDeviceSimulator } from './onvif-device.ts';

/**
 * Where a simulated camera points, as its picture shows it: a white block on black whose centre follows pan (x, -1
 * left to 1 right) and tilt (y, -1 down to 1 up), and whose side follows zoom (0 widest, small block, to 1 tele).
 */
export interface Marker {
  readonly x: number;
  readonly y: number;
  readonly zoom: number;
}

export const PICTURE = { width: 160, height: 120, minSide: 8, maxSide: 40 } as const;

const sideOf = (zoom: number): number => Math.round(PICTURE.minSide + Math.min(1, Math.max(0, zoom)) * (PICTURE.maxSide - PICTURE.minSide));

/** Draws the marker into a grey 8-bit frame of PICTURE's size. */
export function drawMarker(frame: Buffer, marker: Marker): void {
  const { width, height } = PICTURE;
  frame.fill(0);
  const side = sideOf(marker.zoom);
  const left = Math.round(((marker.x + 1) / 2) * (width - side));
  const top = Math.round(((1 - marker.y) / 2) * (height - side));
  for (let y = top; y < top + side; y++) frame.fill(255, y * width + left, y * width + left + side);
}

/** Reads the marker back from a grey frame of PICTURE's size (the bright pixels' bounding box); undefined when none. */
export function findMarker(frame: Buffer): Marker | undefined {
  const { width, height, minSide, maxSide } = PICTURE;
  let left: number = width;
  let right = -1;
  let top: number = height;
  let bottom = -1;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      if ((frame[y * width + x] ?? 0) < 128) continue;
      left = Math.min(left, x);
      right = Math.max(right, x);
      top = Math.min(top, y);
      bottom = Math.max(bottom, y);
    }
  }
  if (right < 0) return undefined;
  const side = (right - left + 1 + bottom - top + 1) / 2;
  return {
    x: (left / Math.max(1, width - side)) * 2 - 1,
    y: 1 - (top / Math.max(1, height - side)) * 2,
    zoom: (side - minSide) / (maxSide - minSide),
  };
}

/** The Canon WebView HTTP simulator's position (0.01 degrees within its limits) as a marker. */
export function canonMarker(camera: CanonControlCamera): Marker {
  const { panLeft, panRight, tiltDown, tiltUp, zoomTele, zoomWide } = camera.limits;
  const unit = (value: number, low: number, high: number): number => (value - low) / (high - low);
  return { x: unit(camera.pan, panLeft, panRight) * 2 - 1, y: unit(camera.tilt, tiltDown, tiltUp) * 2 - 1, zoom: unit(camera.zoom, zoomWide, zoomTele) };
}

/** The ONVIF simulator's position (generic spaces), live during a continuous move, as a marker. */
export function onvifMarker(device: OnvifDeviceSimulator): Marker {
  const { x, y, zoom } = device.current();
  return { x, y, zoom };
}

/**
 * An HTTP MJPEG camera (multipart/x-mixed-replace) whose every frame draws where a simulated PTZ camera points now:
 * frames drawn in Node at `fps` from `marker()`, encoded to JPEG by one ffmpeg, sent to every client.
 */
export class PositionPicture {
  private constructor(private readonly camera: DrawnMjpegCamera, readonly fps: number) {}

  static async start(marker: () => Marker, fps = 25): Promise<PositionPicture> {
    const camera = new DrawnMjpegCamera({ width: PICTURE.width, height: PICTURE.height, fps, path: '/position.mjpg', draw: (frame) => drawMarker(frame, marker()) });
    await camera.start();
    return new PositionPicture(camera, fps);
  }

  get url(): string {
    return this.camera.url;
  }

  close(): Promise<void> {
    return this.camera.stop();
  }
}

/** A decoded frame of a relay's output and when it arrived. */
export interface SeenFrame {
  readonly marker: Marker | undefined;
  readonly at: number;
}

/**
 * Decodes a stream URL (the relay's MJPEG or FLV output) with ffmpeg into grey frames of PICTURE's size and hands each
 * one's marker to `onFrame` as it arrives; `close()` ends ffmpeg.
 */
export function watchMarkers(url: string, onFrame: (frame: SeenFrame) => void, format?: 'mpjpeg' | 'flv'): { close(): void; readonly exited: Promise<number | null> } {
  const { width, height } = PICTURE;
  const size = width * height;
  const decoder = spawn('ffmpeg', [
    '-hide_banner', '-loglevel', 'error', '-fflags', 'nobuffer', '-flags', 'low_delay', '-probesize', '32768', '-analyzeduration', '0',
    // One decoding thread: frame threads would hold each picture back by a frame per thread.
    '-threads', '1', ...(format ? ['-f', format] : []), '-i', url, '-an', '-vf', `scale=${width}:${height}`, '-pix_fmt', 'gray', '-f', 'rawvideo', '-flush_packets', '1', 'pipe:1',
  ], { stdio: ['ignore', 'pipe', 'ignore'] });
  let pending: Buffer = Buffer.alloc(0);
  decoder.stdout!.on('data', (chunk: Buffer) => {
    const at = performance.timeOrigin + performance.now();
    pending = pending.length ? Buffer.concat([pending, chunk]) : chunk;
    while (pending.length >= size) {
      onFrame({ marker: findMarker(pending.subarray(0, size)), at });
      pending = pending.subarray(size);
    }
  });
  const exited = new Promise<number | null>((resolve) => decoder.once('exit', (code) => resolve(code)));
  return { close: () => decoder.kill('SIGKILL'), exited };
}
