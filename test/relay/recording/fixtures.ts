import { execFile, execFileSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Test } from 'tap';
import { createLogger, type Logger } from '../../../lib/log.ts';
import { EncodedHub } from '../../../relay/core/hub.ts';
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
  const hub = new EncodedHub('gated');
  const gate = { paused: false };
  source.hub.subscribe((frame) => {
    if (!gate.paused) hub.publish(frame);
  });
  return { hub, source, gate };
}

// A small tmpfs is a real full disk (and, remounted read-only, a real read-only one); mounting needs root, which the
// CI machine and this test's runner have.
export async function smallDisk(t: Test, size: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'relay-disk-'));
  execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir]);
  t.teardown(async () => {
    execFileSync('umount', ['-l', dir]);
    await rm(dir, { recursive: true, force: true });
  });
  return dir;
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Makes a fragmented MP4 as the recorder writes it (libx264, one fragment per second) of `seconds` of test pattern. */
export async function makeSegmentFile(path: string, seconds = 3, size = '160x120'): Promise<void> {
  await run('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-f', 'lavfi', '-i', `testsrc=size=${size}:rate=10`, '-t', String(seconds),
    '-c:v', 'libx264', '-preset', 'ultrafast', '-g', '10', '-pix_fmt', 'yuv420p', '-f', 'mp4',
    '-movflags', '+frag_keyframe+empty_moov+default_base_moof', '-frag_duration', '1000000', '-y', path], { timeout: 30_000 });
}

/** The names of the entries of a ZIP file, read from its central directory. */
export function zipEntryNames(zip: Buffer): string[] {
  const eocd = zip.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  if (eocd < 0) throw new Error('not a ZIP: no end of central directory');
  const count = zip.readUInt16LE(eocd + 10);
  let offset = zip.readUInt32LE(eocd + 16);
  const names: string[] = [];
  for (let i = 0; i < count; i++) {
    if (zip.readUInt32LE(offset) !== 0x02014b50) throw new Error('bad central directory entry');
    const nameLength = zip.readUInt16LE(offset + 28);
    const extra = zip.readUInt16LE(offset + 30);
    const comment = zip.readUInt16LE(offset + 32);
    names.push(zip.toString('utf8', offset + 46, offset + 46 + nameLength));
    offset += 46 + nameLength + extra + comment;
  }
  return names;
}

/** An mjpg-streamer-like HTTP camera on 127.0.0.1: multipart JPEG at `rate` fps; counts connections. */
export async function startMjpegCamera(rate = 10): Promise<{ url: string; connections: () => number; paused: { value: boolean }; stop: () => Promise<void> }> {
  const { createServer } = await import('node:http');
  const { makeJpegFrames } = await import('../../helpers/controllable-camera.ts');
  const frames = makeJpegFrames(25, '320x240');
  let connections = 0;
  // While paused the camera stays connected and sends nothing, as a camera does when its link stalls.
  const paused = { value: false };
  const server = createServer((request, response) => {
    connections++;
    response.writeHead(200, { 'Content-Type': 'multipart/x-mixed-replace; boundary=frame' });
    let i = 0;
    const timer = setInterval(() => {
      if (paused.value) return;
      const jpeg = frames[i++ % frames.length]!;
      response.write(`--frame\r\nContent-Type: image/jpeg\r\nContent-Length: ${jpeg.length}\r\n\r\n`);
      response.write(jpeg);
      response.write('\r\n');
    }, 1000 / rate);
    request.socket.on('close', () => clearInterval(timer));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}/?action=stream`,
    connections: () => connections,
    paused,
    stop: () => new Promise((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}
