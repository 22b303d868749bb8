import { createRequire } from 'node:module';
import type { FfmpegFeatures } from './ffmpeg-args.ts';
import { runToEnd } from '../../lib/ffmpeg-runner.ts';

/** What `path args` writes on stdout when it exits with 0 within 10 s; undefined when it does not run or fails. */
async function outputOf(path: string, args: string[], maxBytes: number): Promise<string | undefined> {
  const result = await runToEnd({ command: path, args, signal: new AbortController().signal, timeoutMs: 10_000 }, maxBytes);
  return result?.exit.code === 0 ? result.stdout.toString() : undefined;
}

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
  const stdout = await outputOf(path, ['-hide_banner', '-version'], 1024 * 1024);
  const match = /ffmpeg version (\S+)/.exec(stdout?.split('\n')[0] ?? '');
  return match ? match[1] : undefined;
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
  const stdout = await outputOf(path, ['-hide_banner', '-h', 'long'], 8 * 1024 * 1024);
  return { fpsMode: /^-fps_mode\b/m.test(stdout ?? '') };
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
