import { execFile, spawn } from 'node:child_process';
import { get } from 'node:http';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

import type { Packet } from './quality-capture.ts';
import { psnr } from './quality.ts';

const run = promisify(execFile);

/** Reads a live HTTP stream for `ms` and returns the bytes received. */
export function captureStream(url: string, ms: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const request = get(url, (response) => {
      if (response.statusCode !== 200) {
        request.destroy();
        reject(new Error(`${url}: HTTP ${response.statusCode}`));
        return;
      }
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('error', () => {});
      setTimeout(() => {
        request.destroy();
        resolve(Buffer.concat(chunks));
      }, ms);
    });
    request.on('error', (error) => {
      if (chunks.length === 0) reject(error);
    });
  });
}

/**
 * Decodes a video (any container ffmpeg reads from a pipe: flv, mjpeg, mpegts) to its frames' luma planes at
 * `width` x `height`, one Buffer per frame. Full-range and TV-range sources both come out in full range.
 */
export function decodeLuma(video: Buffer, format: string, width: number, height: number): Promise<Buffer[]> {
  return new Promise((resolve, reject) => {
    const child = spawn('ffmpeg', ['-v', 'error', '-f', format, '-i', 'pipe:0', '-vf', `scale=${width}:${height}:out_range=full,format=gray`,
      '-fps_mode', 'passthrough', '-f', 'rawvideo', 'pipe:1'], { stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.stdin.on('error', () => {}); // ffmpeg may stop reading a truncated tail
    child.on('error', reject);
    child.on('close', () => {
      const all = Buffer.concat(out);
      const size = width * height;
      const frames: Buffer[] = [];
      for (let at = 0; at + size <= all.length; at += size) frames.push(all.subarray(at, at + size));
      if (frames.length === 0) reject(new Error(`no frame decoded from ${format}: ${stderr.slice(-300)}`));
      else resolve(frames);
    });
    child.stdin.end(video);
  });
}

/** A plane shrunk by `factor` in each direction (mean of each block), for finding which source frame a frame shows. */
function thumbnail(plane: Buffer, width: number, factor: number): Float32Array {
  const height = plane.length / width;
  const w = Math.floor(width / factor);
  const h = Math.floor(height / factor);
  const out = new Float32Array(w * h);
  for (let y = 0; y < h * factor; y++) {
    for (let x = 0; x < w * factor; x++) out[Math.floor(y / factor) * w + Math.floor(x / factor)]! += plane[y * width + x]!;
  }
  return out;
}

/**
 * For each decoded frame, the PSNR against the source frame it shows (the closest of `sources`, found on thumbnails):
 * the picture a viewer gets compared with what the camera sent, whatever frames were dropped or repeated on the way.
 */
export function matchedPsnr(decoded: readonly Buffer[], sources: readonly Buffer[], width: number): number[] {
  const sourceThumbs = sources.map((plane) => thumbnail(plane, width, 8));
  return decoded.map((plane) => {
    const thumb = thumbnail(plane, width, 8);
    let best = 0;
    let bestDistance = Number.POSITIVE_INFINITY;
    sourceThumbs.forEach((candidate, index) => {
      let distance = 0;
      for (let i = 0; i < thumb.length; i++) distance += Math.abs(thumb[i]! - candidate[i]!);
      if (distance < bestDistance) {
        bestDistance = distance;
        best = index;
      }
    });
    return psnr(plane, sources[best]!);
  });
}

/** The video packets of a captured stream (FLV, MPEG-TS, ...), in order. */
export async function videoPackets(video: Buffer, extension: string): Promise<Packet[]> {
  const dir = await mkdtemp(join(tmpdir(), 'relay-picture-'));
  try {
    const file = join(dir, `capture.${extension}`);
    await writeFile(file, video);
    const { stdout } = await run('ffprobe', ['-v', 'error', '-select_streams', 'v:0', '-show_entries', 'packet=pts_time,size,flags', '-of', 'csv=p=0', file],
      { maxBuffer: 64 * 1024 * 1024 });
    return stdout.trim().split('\n').filter(Boolean).map((line) => {
      const [pts, size, flags] = line.split(',');
      return { pts: Number(pts), size: Number(size), keyframe: (flags ?? '').includes('K') };
    });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Kbit/s of the packets presented from `fromSeconds` on (the encoder's rate control settled), over their time span. */
export function packetKbps(packets: readonly Packet[], fromSeconds: number): number {
  const kept = packets.filter((packet) => packet.pts >= fromSeconds);
  if (kept.length < 2) throw new Error(`only ${kept.length} packets after ${fromSeconds} s`);
  const span = kept[kept.length - 1]!.pts - kept[0]!.pts;
  // Each packet lasts about one frame interval: the span covers all but the last one's.
  const bytes = kept.slice(0, -1).reduce((sum, packet) => sum + packet.size, 0);
  return (bytes * 8) / span / 1000;
}

/** Frames per second of the packets presented from `fromSeconds` on. */
export function packetFps(packets: readonly Packet[], fromSeconds: number): number {
  const kept = packets.filter((packet) => packet.pts >= fromSeconds);
  if (kept.length < 2) throw new Error(`only ${kept.length} packets after ${fromSeconds} s`);
  return (kept.length - 1) / (kept[kept.length - 1]!.pts - kept[0]!.pts);
}
