import { spawn, type ChildProcess } from 'node:child_process';
import { FlvTagReader } from '../../media/flv/tags.ts';
import { EncodedHub } from '../../relay/core/hub.ts';
import { FlvFrameReader } from '../../media/flv/frames.ts';

export interface TestEncodedSource {
  readonly hub: EncodedHub;
  readonly process: ChildProcess;
  stop(): void;
}

/**
 * A real H.264 source for packager and consumer tests: ffmpeg encodes a live test pattern (libx264, `gop` frames
 * between keyframes) and its FLV output is turned into encoded frames published on an EncodedHub.
 */
export function startTestEncodedSource(options: { size?: string; rate?: number; gop?: number; ffmpeg?: string } = {}): TestEncodedSource {
  const { size = '320x240', rate = 25, gop = rate, ffmpeg = 'ffmpeg' } = options;
  const hub = new EncodedHub('test');
  const child = spawn(ffmpeg, [
    '-hide_banner', '-loglevel', 'error', '-re', '-f', 'lavfi', '-i', `testsrc=size=${size}:rate=${rate}`,
    '-c:v', 'libx264', '-preset', 'ultrafast', '-tune', 'zerolatency', '-pix_fmt', 'yuv420p',
    '-g', String(gop), '-keyint_min', String(gop), '-sc_threshold', '0', '-f', 'flv', 'pipe:1',
  ], { stdio: ['ignore', 'pipe', 'inherit'] });
  const tags = new FlvTagReader();
  const frames = new FlvFrameReader();
  child.stdout!.on('data', (chunk: Buffer) => {
    for (const tag of tags.push(chunk)) {
      const frame = frames.read(tag);
      if (frame) hub.publish(frame);
    }
  });
  return { hub, process: child, stop: () => child.kill('SIGKILL') };
}
