import { execFile, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { get } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { promisify } from 'node:util';
import { JpegSplitter } from '../../media/jpeg/splitter.ts';
import { contentRate, frameTiming, kbps, scorePicture, sequenceFaults, type FrameTiming, type GrayFrames, type PictureScore } from './quality.ts';

const run = promisify(execFile);

/**
 * Runs ffmpeg with `input` arguments and returns the video as luma frames scaled to width x height, every frame
 * decoded kept (no frame-rate conversion). `stdin` feeds `-i pipe:0`.
 */
export function decodeGray(input: readonly string[], width: number, height: number, stdin?: Buffer): Promise<GrayFrames> {
  return new Promise((resolve, reject) => {
    const child = spawn('ffmpeg', [
      '-hide_banner', '-nostdin', '-loglevel', 'error', ...input, '-map', '0:v:0', '-fps_mode', 'passthrough',
      '-vf', `scale=${width}:${height}:flags=bicubic,format=gray`, '-f', 'rawvideo', 'pipe:1',
    ].filter((arg) => !(stdin && arg === '-nostdin')), { stdio: [stdin ? 'pipe' : 'ignore', 'pipe', 'pipe'] });
    const chunks: Buffer[] = [];
    let stderr = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
    child.stdout!.on('data', (chunk: Buffer) => chunks.push(chunk));
    child.stderr!.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-2000)));
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      const raw = Buffer.concat(chunks);
      const size = width * height;
      const frames: Uint8Array[] = [];
      for (let offset = 0; offset + size <= raw.length; offset += size) frames.push(raw.subarray(offset, offset + size));
      if (code !== 0 && frames.length === 0) reject(new Error(`ffmpeg decode exited ${code}: ${stderr.trim()}`));
      else resolve({ width, height, frames });
    });
    if (stdin && child.stdin) {
      child.stdin.on('error', () => {});
      child.stdin.end(stdin);
    }
  });
}

/** Decodes JPEGs (the camera's own frames) to luma frames of their own size, or of `size` when given. */
export async function jpegsToGray(jpegs: readonly Buffer[], size?: { width: number; height: number }): Promise<GrayFrames> {
  const own = await jpegSize(jpegs[0]!);
  const { width, height } = size ?? own;
  return decodeGray(['-f', 'mjpeg', '-i', 'pipe:0'], width, height, Buffer.concat(jpegs));
}

/** A JPEG's width and height, from its frame header. */
export async function jpegSize(jpeg: Buffer): Promise<{ width: number; height: number }> {
  for (let i = 2; i + 9 < jpeg.length; ) {
    if (jpeg[i] !== 0xff) throw new Error('not a JPEG segment');
    const marker = jpeg[i + 1]!;
    if (marker >= 0xc0 && marker <= 0xc3) return { height: jpeg.readUInt16BE(i + 5), width: jpeg.readUInt16BE(i + 7) };
    i += 2 + jpeg.readUInt16BE(i + 2);
  }
  throw new Error('JPEG without a frame header');
}

/** One video packet as ffprobe reads it from a capture. */
export interface Packet {
  readonly pts: number;
  readonly size: number;
  readonly keyframe: boolean;
}

/** What a capture holds: codec, size and its video packets in file order. */
export interface Probed {
  readonly codec: string;
  readonly width: number;
  readonly height: number;
  readonly packets: readonly Packet[];
}

/** Reads a media file's first video stream and its packets. */
export async function probeFile(file: string): Promise<Probed> {
  const { stdout } = await run('ffprobe', [
    '-v', 'error', '-select_streams', 'v:0', '-show_entries', 'stream=codec_name,width,height:packet=pts_time,size,flags',
    '-of', 'json', file,
  ], { timeout: 60_000, maxBuffer: 64 << 20 });
  const parsed = JSON.parse(stdout) as {
    streams: Array<{ codec_name: string; width: number; height: number }>;
    packets?: Array<{ pts_time?: string; size: string; flags: string }>;
  };
  const stream = parsed.streams[0];
  if (!stream) throw new Error(`no video stream in ${file}`);
  const packets = (parsed.packets ?? []).filter((p) => p.pts_time !== undefined)
    .map((p) => ({ pts: Number(p.pts_time), size: Number(p.size), keyframe: p.flags.includes('K') }));
  return { codec: stream.codec_name, width: stream.width, height: stream.height, packets };
}

/** What one output gave a viewer, measured against the source frames. */
export interface QualityReport extends FrameTiming, PictureScore {
  readonly codec: string;
  readonly width: number;
  readonly height: number;
  /** Video bit rate over the capture, kbit/s (MJPEG: the JPEG bytes). */
  readonly kbps: number;
  /** Frames showing the same source frame as the one before, and steps back in the source's order. */
  readonly repeats: number;
  readonly backwards: number;
  /** Source frames stepped over between two frames the viewer got. */
  readonly skipped: number;
  readonly advanced: number;
  /** Frames per second of the source's time the viewer's frames show (when the reference knows the source's rate). */
  readonly contentFps?: number;
}

/**
 * The source a viewer's frames are compared with; `loop` is how many distinct frames a looping source repeats, `rate`
 * the source's frames per second.
 */
export interface Reference {
  readonly frames: GrayFrames;
  readonly loop?: number;
  readonly rate?: number;
}

function report(probed: Omit<Probed, 'packets'>, times: number[], bytes: number, reference: Reference, decoded: GrayFrames): QualityReport {
  const timing = frameTiming(times);
  const score = scorePicture(reference.frames, decoded);
  const span = times[times.length - 1]! - times[0]!;
  const faults = sequenceFaults(score.matched, reference.loop ?? Number.MAX_SAFE_INTEGER);
  const contentFps = reference.rate ? contentRate(score.frames, faults.advanced, reference.rate) : undefined;
  return { ...probed, ...timing, ...score, ...faults, contentFps, kbps: kbps(bytes, span * (times.length / (times.length - 1))) };
}

/** A capture on disk; `remove()` deletes it. */
export interface Capture {
  readonly file: string;
  remove(): Promise<void>;
}

/**
 * Captures `seconds` of a video URL (FLV, HLS, LL-HLS, RTSP, a VOD playlist) as a viewer reads it, with ffmpeg in copy
 * mode, to a file. Score it after every concurrent capture has ended: scoring holds this process's event loop.
 */
export async function captureVideo(url: string, options: { seconds?: number; inputOptions?: readonly string[] } = {}): Promise<Capture> {
  const dir = await mkdtemp(join(tmpdir(), 'relay-quality-'));
  const remove = (): Promise<void> => rm(dir, { recursive: true, force: true });
  try {
    const file = join(dir, 'capture.mkv');
    const timeout = /^https?:/.test(url) ? ['-rw_timeout', '15000000'] : [];
    await run('ffmpeg', [
      '-hide_banner', '-nostdin', '-loglevel', 'error', ...timeout, ...(options.inputOptions ?? []), '-i', url,
      '-t', String(options.seconds ?? 5), '-map', '0:v:0', '-c', 'copy', '-f', 'matroska', file,
    ], { timeout: ((options.seconds ?? 5) + 40) * 1000 });
    return { file, remove };
  } catch (error) {
    await remove();
    throw error;
  }
}

/** Captures a video URL and measures it against the reference: packet timing and bit rate as sent, every frame decoded. */
export async function measureVideo(url: string, reference: Reference, options: { seconds?: number; inputOptions?: readonly string[] } = {}): Promise<QualityReport> {
  return measureCapture(await captureVideo(url, options), reference);
}

/** Measures a capture, then removes it. */
export async function measureCapture(capture: Capture, reference: Reference): Promise<QualityReport> {
  try {
    return await measureFile(capture.file, reference);
  } finally {
    await capture.remove();
  }
}

/** Measures a media file (a capture, a recording) against the reference. */
export async function measureFile(file: string, reference: Reference): Promise<QualityReport> {
  const probed = await probeFile(file);
  if (probed.packets.length < 2) throw new Error(`${probed.packets.length} video packets in the capture`);
  const times = probed.packets.map((p) => p.pts);
  const bytes = probed.packets.reduce((sum, p) => sum + p.size, 0);
  const decoded = await decodeGray(['-i', file], reference.frames.width, reference.frames.height);
  return report({ codec: probed.codec, width: probed.width, height: probed.height }, times, bytes, reference, decoded);
}

/** Reads an MJPEG (multipart JPEG) URL for `seconds`: the JPEGs and their arrival times, seconds. */
export function captureMjpeg(url: string, seconds: number): Promise<{ jpegs: Buffer[]; times: number[] }> {
  return new Promise((resolve, reject) => {
    const jpegs: Buffer[] = [];
    const times: number[] = [];
    const splitter = new JpegSplitter(16 << 20);
    const request = get(url, (response) => {
      if (response.statusCode !== 200) reject(new Error(`${url}: HTTP ${response.statusCode}`));
      response.on('data', (chunk: Buffer) => {
        for (const jpeg of splitter.push(chunk)) {
          jpegs.push(jpeg);
          times.push(performance.now() / 1000);
        }
      });
      response.on('error', () => {});
    });
    request.on('error', reject);
    setTimeout(() => {
      request.destroy();
      resolve({ jpegs, times });
    }, seconds * 1000);
  });
}

/**
 * Records when an MJPEG source (a camera, or a relay's passthrough of one) delivers each frame, from now until
 * `stop()`. A capture of a live output starts with frames sent before it began (the kept group, an HLS playlist's
 * earlier segments), so the delivery it is judged against must reach back before the capture: `timing()` of a window.
 */
export class DeliveryLog {
  private readonly times: number[] = [];
  private readonly request: ReturnType<typeof get>;

  constructor(url: string) {
    const splitter = new JpegSplitter(16 << 20);
    this.request = get(url, (response) => {
      response.on('data', (chunk: Buffer) => {
        for (const _jpeg of splitter.push(chunk)) this.times.push(performance.now() / 1000);
      });
      response.on('error', () => {});
    });
    this.request.on('error', () => {});
  }

  /** Seconds on the clock `timing()` windows use. */
  static now(): number {
    return performance.now() / 1000;
  }

  /** The delivery between `from` and `to` (seconds from DeliveryLog.now()). */
  timing(from: number, to: number): FrameTiming {
    return frameTiming(this.times.filter((time) => time >= from && time <= to));
  }

  /**
   * The delivery between `from` and `to`, its rate that of the run of `capture.frames` consecutive deliveries in the
   * window whose rate is nearest the capture's. An arrival-stamped capture of a source with no skipped frame is one
   * of those runs, stamped as the relay received it; where it sits in the window is not known, and the source's rate
   * varies over the window under load.
   */
  timingOf(capture: { frames: number; fps: number }, from: number, to: number): FrameTiming {
    const times = this.times.filter((time) => time >= from && time <= to);
    const window = frameTiming(times);
    let fps = window.fps;
    for (let i = 0; i + capture.frames <= times.length; i++) {
      const span = times[i + capture.frames - 1]! - times[i]!;
      const rate = span > 0 ? (capture.frames - 1) / span : 0;
      if (Math.abs(rate - capture.fps) < Math.abs(fps - capture.fps)) fps = rate;
    }
    return { ...window, fps };
  }

  stop(): void {
    this.request.destroy();
  }
}

/** How an MJPEG source (a camera, or a relay's passthrough of one) delivers its frames to a reader over `seconds`. */
export async function deliveredTiming(url: string, seconds: number): Promise<FrameTiming> {
  const { times } = await captureMjpeg(url, seconds);
  return frameTiming(times.slice(1));
}

/** Measures an MJPEG output: arrival timing, bytes and each JPEG's picture against the reference. */
export async function measureMjpeg(url: string, reference: Reference, seconds = 5): Promise<QualityReport> {
  const captured = await captureMjpeg(url, seconds);
  // The first JPEG is the latest kept frame, sent on connecting: its arrival says nothing of the stream's timing.
  const jpegs = captured.jpegs.slice(1);
  const times = captured.times.slice(1);
  if (jpegs.length < 2) throw new Error(`${jpegs.length} JPEGs from ${url} in ${seconds} s`);
  const size = await jpegSize(jpegs[0]!);
  const decoded = await jpegsToGray(jpegs, reference.frames);
  const bytes = jpegs.reduce((sum, jpeg) => sum + jpeg.length, 0);
  return report({ codec: 'mjpeg', ...size }, times, bytes, reference, decoded);
}

/** Polls a snapshot URL `count` times, `intervalMs` apart, and scores each JPEG; timing is that of the polls. */
export async function measureSnapshots(url: string, reference: Reference, count = 10, intervalMs = 200): Promise<QualityReport> {
  const jpegs: Buffer[] = [];
  const times: number[] = [];
  for (let i = 0; i < count; i++) {
    const response = await fetch(url);
    if (response.status !== 200) throw new Error(`${url}: HTTP ${response.status}`);
    jpegs.push(Buffer.from(await response.arrayBuffer()));
    times.push(performance.now() / 1000);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
  const size = await jpegSize(jpegs[0]!);
  const decoded = await jpegsToGray(jpegs, reference.frames);
  return report({ codec: 'jpeg', ...size }, times, jpegs.reduce((sum, jpeg) => sum + jpeg.length, 0), reference, decoded);
}

/** Watches an HLS media playlist for `seconds` and returns each segment's EXTINF duration, in order, and TARGETDURATION. */
export async function hlsSegmentDurations(playlistUrl: string, seconds: number): Promise<{ target: number; durations: number[] }> {
  const seen = new Map<string, number>();
  let target = 0;
  const deadline = Date.now() + seconds * 1000;
  while (Date.now() < deadline) {
    const text = await (await fetch(playlistUrl)).text();
    target = Number(/#EXT-X-TARGETDURATION:(\d+)/.exec(text)?.[1] ?? 0);
    const lines = text.split('\n').map((line) => line.trim());
    lines.forEach((line, i) => {
      const extinf = /^#EXTINF:([\d.]+)/.exec(line);
      const uri = lines.slice(i + 1).find((next) => next !== '' && !next.startsWith('#'));
      if (extinf && uri && !seen.has(uri)) seen.set(uri, Number(extinf[1]));
    });
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  return { target, durations: [...seen.values()] };
}
