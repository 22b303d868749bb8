import { spawn } from 'node:child_process';
import { JpegSplitter } from '../../../media/jpeg/splitter.ts';

/**
 * Real JPEGs dressed as a Canon VB-C10 sends them: encoded by ffmpeg, then their JFIF APP0 segment replaced by an APP0
 * whose identifier is "VB". The field layout after "VB" is not public; the bytes here only stand in for pan, tilt,
 * zoom, a timestamp and the model code (03h, VB-C10), so the segment has a realistic size and shape.
 */
export async function makeCanonJpegs(count: number, size = '192x144'): Promise<Buffer[]> {
  const raw = await runTool('ffmpeg', [
    '-hide_banner', '-nostdin', '-loglevel', 'error',
    '-f', 'lavfi', '-i', `testsrc=size=${size}:rate=1`, '-frames:v', String(count), '-f', 'mjpeg', 'pipe:1',
  ]);
  const frames = new JpegSplitter(1 << 22).push(raw);
  if (frames.length !== count) throw new Error(`ffmpeg made ${frames.length} JPEGs, wanted ${count}`);
  return frames.map((frame, index) => withCanonApp0(frame, index));
}

/** Replaces a JPEG's leading JFIF APP0 with a Canon-style "VB" APP0. */
export function withCanonApp0(jpeg: Buffer, sequence: number): Buffer {
  if (jpeg.readUInt16BE(0) !== 0xffd8 || jpeg.readUInt16BE(2) !== 0xffe0) throw new Error('expected SOI then APP0');
  const app0Length = jpeg.readUInt16BE(4);
  if (jpeg.subarray(6, 11).toString('latin1') !== 'JFIF\0') throw new Error('expected a JFIF APP0');
  const fields = Buffer.alloc(14);
  fields.writeInt16BE(-1234, 0); // pan, 0.01 degree
  fields.writeInt16BE(500, 2); // tilt
  fields.writeUInt16BE(4100, 4); // zoom
  fields.writeUInt32BE(1_180_000_000 + sequence, 6); // timestamp
  fields[10] = 0x03; // model code: VB-C10
  const body = Buffer.concat([Buffer.from('VB', 'latin1'), fields]);
  const segment = Buffer.concat([Buffer.from([0xff, 0xe0, 0x00, body.length + 2]), body]);
  return Buffer.concat([jpeg.subarray(0, 2), segment, jpeg.subarray(4 + app0Length)]);
}

/** Runs ffmpeg or ffprobe and returns its stdout; rejects with its stderr on failure; killed after 15 s. */
export function runTool(tool: 'ffmpeg' | 'ffprobe', args: string[], input?: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const child = spawn(tool, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => err.push(chunk));
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      if (code === 0) resolve(Buffer.concat(out));
      else reject(new Error(`${tool} exited ${code}: ${Buffer.concat(err).toString().trim()}`));
    });
    child.stdin.on('error', () => {}); // ffmpeg may exit before reading all of its input
    child.stdin.end(input);
  });
}
