import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { testsrcArgs, type TestsrcOptions } from '../../adapters/testsrc/testsrc.ts';
import { decodeGray, jpegsToGray, type Reference } from './quality-capture.ts';
import { psnr, type GrayFrames } from './quality.ts';
import { JpegSplitter } from '../../media/jpeg/splitter.ts';

const run = promisify(execFile);

/**
 * A reference from frames that may repeat: when frame p equals frame 0 and frame p+1 frame 1, the source loops every
 * p frames and only those are kept, so a viewer's frames match one index each.
 */
export function referenceOf(frames: GrayFrames, rate?: number): Reference {
  const all = frames.frames;
  for (let p = 1; p + 1 < all.length; p++) {
    if (psnr(all[p]!, all[0]!) === 99 && psnr(all[p + 1]!, all[1]!) === 99) {
      return { frames: { ...frames, frames: all.slice(0, p) }, loop: p, rate };
    }
  }
  return { frames, rate };
}

/** The first `count` JPEGs the synthetic camera (testsrc://) makes, made by the same ffmpeg arguments. */
export async function testsrcJpegs(options: TestsrcOptions, count: number): Promise<Buffer[]> {
  const args = testsrcArgs(options).filter((arg) => arg !== '-re');
  args.splice(args.indexOf('pipe:1'), 0, '-frames:v', String(count));
  const { stdout } = await run('ffmpeg', args, { encoding: 'buffer', maxBuffer: 1 << 30, timeout: 120_000 });
  return new JpegSplitter(1 << 24).push(stdout);
}

/** The synthetic camera's frames `from` up to `count` as a reference (the earlier ones are made but not kept). */
export async function testsrcReference(options: TestsrcOptions, count: number, from = 0): Promise<Reference> {
  return referenceOf(await jpegsToGray((await testsrcJpegs(options, count)).slice(from)), options.rate);
}

/**
 * The first `count` frames of a GStreamer videotestsrc (`properties` as in a launch line), as the GStreamer peers
 * (RTSP server, push publisher) draw them: the pattern is a function of the frame's running time.
 */
export async function gstPatternReference(properties: string, width: number, height: number, rate: number, count: number): Promise<Reference> {
  const { stdout } = await run('gst-launch-1.0', [
    '-q', 'videotestsrc', `num-buffers=${count}`, ...properties.split(' '), '!',
    `video/x-raw,format=I420,width=${width},height=${height},framerate=${rate}/1`, '!', 'fdsink', 'fd=1',
  ], { encoding: 'buffer', maxBuffer: 1 << 30, timeout: 120_000 });
  // Through ffmpeg's own conversion to grey, as the viewer's frames go, so both sides map video range the same way.
  return referenceOf(await decodeGray(['-f', 'rawvideo', '-pix_fmt', 'yuv420p', '-s', `${width}x${height}`, '-i', 'pipe:0'], width, height, stdout), rate);
}
