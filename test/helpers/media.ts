import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { JpegSplitter } from '../../media/jpeg/splitter.ts';

const run = promisify(execFile);

/** A media directory of generated test files, removed by cleanup(). */
export interface TestMedia {
  readonly dir: string;
  cleanup(): Promise<void>;
}

async function ffmpeg(args: string[]): Promise<void> {
  await run('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y', ...args], { timeout: 60_000 });
}

/**
 * Generates the files the VOD tests play, with ffmpeg, in a fresh temp dir:
 * movie.mp4 (H.264 320x240 10 fps, AAC, `seconds` long, keyframe every second, no B-frames), silent.mp4 (no audio),
 * sound.mp4 (audio only), movie.mjpeg (concatenated JPEGs), movie.Mjpeg (five-digit lengths, as the seed's server
 * reads), notvideo.mp4 (text) and truncated.mp4 (the first half of movie.mp4, whose index is at its end).
 */
export async function makeTestMedia(seconds = 4): Promise<TestMedia> {
  const dir = await mkdtemp(join(tmpdir(), 'relay-media-'));
  const video = ['-f', 'lavfi', '-i', `testsrc=size=320x240:rate=10:duration=${seconds}`];
  const h264 = ['-c:v', 'libx264', '-preset', 'ultrafast', '-g', '10', '-bf', '0', '-pix_fmt', 'yuv420p'];
  await ffmpeg([...video, '-f', 'lavfi', '-i', `sine=frequency=440:duration=${seconds}`, ...h264, '-c:a', 'aac', '-shortest', join(dir, 'movie.mp4')]);
  await ffmpeg([...video, ...h264, join(dir, 'silent.mp4')]);
  await ffmpeg(['-f', 'lavfi', '-i', 'sine=frequency=440:duration=1', '-c:a', 'aac', join(dir, 'sound.mp4')]);
  await ffmpeg([...video, '-c:v', 'mjpeg', '-q:v', '5', '-pix_fmt', 'yuvj420p', '-f', 'mjpeg', join(dir, 'movie.mjpeg')]);
  const jpegs = new JpegSplitter(1024 * 1024).push(await readFile(join(dir, 'movie.mjpeg')));
  await writeFile(join(dir, 'movie.Mjpeg'), lengthPrefixed(jpegs));
  await writeFile(join(dir, 'notvideo.mp4'), 'This is a text file, not a video.\n'.repeat(50));
  const movie = await readFile(join(dir, 'movie.mp4'));
  await writeFile(join(dir, 'truncated.mp4'), movie.subarray(0, Math.floor(movie.length / 2)));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/** JPEGs in the seed's file format: each preceded by its length in five ASCII digits. */
export function lengthPrefixed(jpegs: readonly Buffer[]): Buffer {
  return Buffer.concat(jpegs.flatMap((jpeg) => [Buffer.from(String(jpeg.length).padStart(5, '0'), 'latin1'), jpeg]));
}
