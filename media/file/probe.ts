import { existsSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { open, stat } from 'node:fs/promises';
import { JpegSplitter } from '../jpeg/splitter.ts';
import { LengthPrefixedJpegReader } from '../jpeg/length-prefixed.ts';
import { sniffMediaFile, type MediaFileKind } from './sniff.ts';
import { VodError } from './errors.ts';
import { runToEnd } from '../../lib/ffmpeg-runner.ts';

/** What the relay knows of a media file before playing it. */
export interface MediaInfo {
  readonly kind: MediaFileKind;
  readonly hasVideo: boolean;
  readonly hasAudio: boolean;
  /** 'h264', 'mjpeg', 'hevc', ...; undefined without video. */
  readonly videoCodec: string | undefined;
  /** The first audio track's codec ('aac', 'mp3', ...), when the file has one. */
  readonly audioCodec?: string;
  /** Seconds, when the container says. */
  readonly durationSeconds: number | undefined;
}

const PROBE_TIMEOUT_MS = 15_000;

/** ffprobe beside the ffmpeg the relay uses (same build), else ffprobe on PATH. */
export function ffprobeFor(ffmpegPath: string): string {
  if (basename(ffmpegPath) === 'ffmpeg') {
    const sibling = join(dirname(ffmpegPath), 'ffprobe');
    if (existsSync(sibling)) return sibling;
  }
  return 'ffprobe';
}

/**
 * Finds out what a file holds: JPEG files by their first bytes, anything else with ffprobe. A file ffprobe cannot
 * read is NOT_VIDEO; one without a video track NO_VIDEO_TRACK. Errors never carry the path.
 */
export async function probeMediaFile(path: string, ffmpegPath: string): Promise<MediaInfo> {
  const kind = await sniffMediaFile(path);
  if (kind !== 'ffmpeg') {
    await checkFirstFrames(path, kind);
    return { kind, hasVideo: true, hasAudio: false, videoCodec: 'mjpeg', durationSeconds: undefined };
  }
  // A file's version is its inode, size and modification time: a stream started by the API and its camera starting
  // a moment later probe it once (ffprobe costs some 200-500 ms of the time to the first frame).
  const stats = await stat(path);
  const version = `${path}\0${stats.dev}:${stats.ino}\0${stats.size}\0${stats.mtimeMs}`;
  const known = probed.get(version);
  if (known) return known;
  const probe = await runToEnd({
    command: ffprobeFor(ffmpegPath),
    args: [...PROBE_ARGS, `file:${path}`],
    signal: new AbortController().signal, timeoutMs: PROBE_TIMEOUT_MS,
  }, 1024 * 1024);
  if (probe?.exit.code !== 0) throw new VodError('NOT_VIDEO', 'The file is not a video the relay can read');
  const info = parseProbeOutput(kind, probe.stdout.toString());
  if (probed.size >= MAX_PROBED) probed.delete(probed.keys().next().value!);
  probed.set(version, info);
  return info;
}

/** Probe results of files by version, oldest dropped first. */
const probed = new Map<string, MediaInfo>();
const MAX_PROBED = 256;

/** The arguments of ffprobe for what the relay needs to know of a file. */
export const PROBE_ARGS = ['-v', 'error', '-show_entries', 'stream=codec_type,codec_name:format=duration', '-of', 'json'] as const;

/** Reads ffprobe's JSON answer (PROBE_ARGS) into MediaInfo; NOT_VIDEO or NO_VIDEO_TRACK when it shows no video. */
export function parseProbeOutput(kind: MediaFileKind, output: string): MediaInfo {
  let parsed: { streams?: Array<{ codec_type?: string; codec_name?: string }>; format?: { duration?: string } };
  try {
    parsed = JSON.parse(output) as typeof parsed;
  } catch {
    throw new VodError('NOT_VIDEO', 'The file is not a video the relay can read');
  }
  const streams = parsed.streams ?? [];
  const video = streams.find((stream) => stream.codec_type === 'video');
  if (streams.length === 0) throw new VodError('NOT_VIDEO', 'The file is not a video the relay can read');
  if (!video) throw new VodError('NO_VIDEO_TRACK', 'The file has no video track');
  const duration = Number(parsed.format?.duration);
  const audio = streams.find((stream) => stream.codec_type === 'audio');
  return {
    kind,
    hasVideo: true,
    hasAudio: audio !== undefined,
    videoCodec: video.codec_name,
    ...(audio?.codec_name ? { audioCodec: audio.codec_name } : {}),
    durationSeconds: Number.isFinite(duration) && duration > 0 ? duration : undefined,
  };
}

/** Bytes read from the start of a JPEG file to check its first frames before it is offered as a stream. */
const JPEG_CHECK_BYTES = 256 * 1024;

/** Parses the first frames of a JPEG file: a bad length or a broken JPEG near its start is NOT_VIDEO at once. */
async function checkFirstFrames(path: string, kind: MediaFileKind): Promise<void> {
  const handle = await open(path, 'r');
  try {
    const head = Buffer.alloc(JPEG_CHECK_BYTES);
    const { bytesRead } = await handle.read(head, 0, head.length, 0);
    const reader = kind === 'jpeg-length-prefixed' ? new LengthPrefixedJpegReader() : new JpegSplitter(64 * 1024 * 1024); // a frame longer than the bytes read is simply unfinished
    reader.push(head.subarray(0, bytesRead));
  } catch (error) {
    throw new VodError('NOT_VIDEO', `The file's frames are malformed: ${(error as Error).message}`);
  } finally {
    await handle.close();
  }
}
