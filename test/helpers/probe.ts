import { execFile } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { get, type IncomingMessage } from 'node:http';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface ProbedStream {
  codec_name: string;
  width: number;
  height: number;
  r_frame_rate: string;
  nb_read_frames?: string;
}

/**
 * Runs ffprobe on a URL and returns its first video stream; `seconds` bounds how much it reads (counting frames).
 * `inputOptions` go before the URL (e.g. `-rtsp_transport udp`).
 */
export async function ffprobe(url: string, seconds = 3, inputOptions: readonly string[] = []): Promise<ProbedStream> {
  const { stdout } = await run(
    'ffprobe',
    ['-v', 'error', '-rw_timeout', '10000000', ...inputOptions, '-count_frames', '-read_intervals', `%+${seconds}`, '-select_streams', 'v:0',
      '-show_entries', 'stream=codec_name,width,height,r_frame_rate,nb_read_frames', '-of', 'json', url],
    { timeout: 30_000 },
  );
  const stream = (JSON.parse(stdout) as { streams: ProbedStream[] }).streams[0];
  if (!stream) throw new Error(`ffprobe found no video stream at ${url}`);
  return stream;
}

/** The ffmpeg processes whose parent is this process, with their command lines. */
export function childFfmpegs(parentPid = process.pid): string[] {
  return childFfmpegProcesses(parentPid).map((child) => child.cmdline);
}

/** The ffmpeg processes whose parent is `parentPid`: pid and command line. */
export function childFfmpegProcesses(parentPid: number): Array<{ pid: number; cmdline: string }> {
  const found: Array<{ pid: number; cmdline: string }> = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid !== parentPid) continue;
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0').join(' ');
      if (/ffmpeg/.test(cmdline.split(' ')[0] ?? '')) found.push({ pid: Number(entry), cmdline });
    } catch {
      // the process ended while we looked
    }
  }
  return found;
}

/** An open HTTP viewer that keeps reading and counts bytes. */
export interface OpenViewer {
  readonly response: IncomingMessage;
  bytes: number;
  /** The first bytes received (up to 64 KiB). */
  head: Buffer;
  close(): void;
}

/** Opens a live stream and keeps reading it until closed. */
export function openViewer(url: string): Promise<OpenViewer> {
  return new Promise((resolve, reject) => {
    const request = get(url, (response) => {
      const viewer: OpenViewer = { response, bytes: 0, head: Buffer.alloc(0), close: () => request.destroy() };
      response.on('data', (chunk: Buffer) => {
        if (viewer.head.length < 65536) viewer.head = Buffer.concat([viewer.head, chunk]).subarray(0, 65536);
        viewer.bytes += chunk.length;
      });
      response.on('error', () => {});
      resolve(viewer);
    });
    request.on('error', reject);
  });
}

/** Fetches a URL into a Buffer with its status and headers. */
export async function fetchBytes(url: string): Promise<{ status: number; headers: Headers; body: Buffer }> {
  const response = await fetch(url);
  return { status: response.status, headers: response.headers, body: Buffer.from(await response.arrayBuffer()) };
}

/** Polls `condition` every 50 ms until it is true; rejects after `timeoutMs` with `what`. */
export async function waitFor(condition: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
