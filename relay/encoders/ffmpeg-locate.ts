import { execFile } from 'node:child_process';
import { createRequire } from 'node:module';
import { promisify } from 'node:util';
import type { FfmpegFeatures } from './ffmpeg-args.ts';

const run = promisify(execFile);

/** The ffmpeg the relay uses, where it came from, and its version line. */
export interface FfmpegInfo {
  readonly path: string;
  readonly origin: 'config' | 'PATH' | '@ffmpeg-installer/ffmpeg';
  readonly version: string;
  readonly features: FfmpegFeatures;
}

/** A missing or broken ffmpeg: a clear message for the operator, not a stack trace. */
export class FfmpegNotFoundError extends Error {
  override readonly name = 'FfmpegNotFoundError';
}

async function probe(path: string): Promise<string | undefined> {
  try {
    const { stdout } = await run(path, ['-hide_banner', '-version'], { timeout: 10_000 });
    const first = stdout.split('\n')[0] ?? '';
    const match = /ffmpeg version (\S+)/.exec(first);
    return match ? match[1] : undefined;
  } catch {
    return undefined;
  }
}

function packagedPath(): string | undefined {
  try {
    const require = createRequire(import.meta.url);
    return (require('@ffmpeg-installer/ffmpeg') as { path: string }).path;
  } catch {
    return undefined;
  }
}

/** Asks ffmpeg which of the options that differ between builds it has. */
async function probeFeatures(path: string): Promise<FfmpegFeatures> {
  try {
    const { stdout } = await run(path, ['-hide_banner', '-h', 'long'], { timeout: 10_000, maxBuffer: 8 * 1024 * 1024 });
    return { fpsMode: /^-fps_mode\b/m.test(stdout) };
  } catch {
    return { fpsMode: false };
  }
}

async function found(path: string, origin: FfmpegInfo['origin'], version: string): Promise<FfmpegInfo> {
  return { path, origin, version, features: await probeFeatures(path) };
}

/** Finds ffmpeg: the config's FFmpegPath, else `ffmpeg` on PATH, else the binary @ffmpeg-installer/ffmpeg ships. */
export async function locateFfmpeg(configured: string | undefined, searchPath = true): Promise<FfmpegInfo> {
  if (configured) {
    const version = await probe(configured);
    if (!version) throw new FfmpegNotFoundError(`FFmpegPath ${configured} does not run as ffmpeg (is it installed and executable?)`);
    return found(configured, 'config', version);
  }
  const onPath = searchPath ? await probe('ffmpeg') : undefined;
  if (onPath) return found('ffmpeg', 'PATH', onPath);
  const packaged = packagedPath();
  const packagedVersion = packaged ? await probe(packaged) : undefined;
  if (packaged && packagedVersion) return found(packaged, '@ffmpeg-installer/ffmpeg', packagedVersion);
  throw new FfmpegNotFoundError('no ffmpeg found: set FFmpegPath in the config, put ffmpeg on PATH, or run npm install (it ships @ffmpeg-installer/ffmpeg)');
}
