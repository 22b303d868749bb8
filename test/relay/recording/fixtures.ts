import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createLogger, type Logger } from '../../../relay/log.ts';
import { EncodedHub } from '../../../relay/media/encoded-hub.ts';
import { startTestEncodedSource, type TestEncodedSource } from '../../helpers/encoded-source.ts';

const run = promisify(execFile);

/** What ffprobe decodes from a recorded file. */
export interface ProbedFile {
  frames: number;
  width: number;
  height: number;
  frameRate: string;
  duration: number;
}

/** Decodes a whole file with ffprobe (every frame counted); rejects when ffprobe cannot read it. */
export async function probeFile(path: string): Promise<ProbedFile> {
  const { stdout } = await run('ffprobe', ['-v', 'error', '-count_frames', '-select_streams', 'v:0',
    '-show_entries', 'stream=nb_read_frames,width,height,r_frame_rate:format=duration', '-of', 'json', path], { timeout: 30_000 });
  const parsed = JSON.parse(stdout) as { streams: Array<Record<string, string | number>>; format: { duration?: string } };
  const stream = parsed.streams[0];
  if (!stream) throw new Error(`no video stream in ${path}`);
  return {
    frames: Number(stream.nb_read_frames),
    width: Number(stream.width),
    height: Number(stream.height),
    frameRate: String(stream.r_frame_rate),
    duration: Number(parsed.format.duration ?? 0),
  };
}

/** A logger that keeps its lines. */
export function keptLogger(): { log: Logger; lines: string[] } {
  const lines: string[] = [];
  return { log: createLogger('test', (line) => lines.push(line)), lines };
}

/** A temporary directory removed by `cleanup`. */
export async function tempDir(prefix: string): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/**
 * A real libx264 source behind a gate: while `paused`, frames are not passed on (a camera outage as the recorder
 * sees it: silence, then frames whose times jumped ahead).
 */
export function gatedSource(options: { rate?: number; gop?: number } = {}): { hub: EncodedHub; source: TestEncodedSource; gate: { paused: boolean } } {
  const source = startTestEncodedSource({ rate: options.rate ?? 10, gop: options.gop ?? 10 });
  const hub = new EncodedHub('gated', () => () => {});
  const gate = { paused: false };
  source.hub.subscribe((frame) => {
    if (!gate.paused) hub.publish(frame);
  });
  return { hub, source, gate };
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Makes a fragmented MP4 as the recorder writes it (libx264, one fragment per second) of `seconds` of test pattern. */
export async function makeSegmentFile(path: string, seconds = 3, size = '160x120'): Promise<void> {
  await run('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-f', 'lavfi', '-i', `testsrc=size=${size}:rate=10`, '-t', String(seconds),
    '-c:v', 'libx264', '-preset', 'ultrafast', '-g', '10', '-pix_fmt', 'yuv420p', '-f', 'mp4',
    '-movflags', '+frag_keyframe+empty_moov+default_base_moof', '-frag_duration', '1000000', '-y', path], { timeout: 30_000 });
}
