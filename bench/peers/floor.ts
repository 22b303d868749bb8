// The floor: the least a fan-out can do. One upstream (an HTTP GET to the camera, or an ffmpeg's stdout), each chunk
// written as-is to every viewer socket. The only work beyond that is what keeps a viewer decodable and memory
// bounded: a joining viewer starts at a frame start (MJPEG boundary, FLV keyframe tag after the FLV header and codec
// configuration); an MJPEG viewer over 1 MB queued skips chunks until the next boundary; a viewer over 8 MB is closed.
import { spawn } from 'node:child_process';
import { get, createServer, type ServerResponse } from 'node:http';
import { parseArgs } from 'node:util';

const BUDGET_BYTES = 1024 * 1024;
const HARD_LIMIT_BYTES = 8 * 1024 * 1024;
const MAX_INIT_BYTES = 1024 * 1024;

const { values } = parseArgs({ options: { port: { type: 'string' }, format: { type: 'string' }, source: { type: 'string' }, ffmpeg: { type: 'string' } } });
const format = values.format === 'flv' ? 'flv' : 'mjpeg';
const live = new Set<ServerResponse>();
const joining = new Set<ServerResponse>();
let contentType = format === 'flv' ? 'video/x-flv' : '';
let frameStart: Buffer = Buffer.alloc(0);

/** Where each chunk's first frame starts (or -1), found once per chunk for all viewers. */
let findStart: (chunk: Buffer) => number = (chunk) => chunk.indexOf(frameStart);
/** FLV: the header and configuration tags a joining viewer needs before its first keyframe. */
let init: Buffer = Buffer.alloc(0);

/** Follows FLV tag boundaries by their sizes across chunks, to know where keyframe tags start. */
class FlvKeyframeTracker {
  private offset = 0;
  private nextTag = 13;
  private previous: Buffer = Buffer.alloc(0);
  private initParts: Buffer[] = [];

  /** Returns the offset in the chunk of the first keyframe tag that starts in it, or -1. */
  push(chunk: Buffer): number {
    const chunkStart = this.offset;
    const chunkEnd = chunkStart + chunk.length;
    const byteAt = (at: number): number | undefined =>
      at >= chunkStart ? chunk[at - chunkStart] : this.previous[this.previous.length - (chunkStart - at)];
    let found = -1;
    while (this.nextTag + 12 <= chunkEnd) {
      const head = [0, 1, 2, 3, 11].map((index) => byteAt(this.nextTag + index));
      if (head.some((value) => value === undefined)) break;
      const [type, s1, s2, s3, first] = head as number[];
      if (found < 0 && this.nextTag >= chunkStart && (type! & 0x1f) === 9 && first! >> 4 === 1) found = this.nextTag - chunkStart;
      this.nextTag += 11 + ((s1! << 16) | (s2! << 8) | s3!) + 4;
    }
    if (init.length === 0) {
      if (found >= 0) {
        init = Buffer.concat([...this.initParts, chunk.subarray(0, found)]);
        this.initParts = [];
      } else if (chunkEnd < MAX_INIT_BYTES) this.initParts.push(chunk);
    }
    this.previous = chunk.subarray(Math.max(0, chunk.length - 16));
    this.offset = chunkEnd;
    return init.length > 0 ? found : -1;
  }
}

function broadcast(chunk: Buffer): void {
  const start = findStart(chunk);
  for (const response of live) {
    const queued = response.writableLength;
    if (queued > HARD_LIMIT_BYTES) response.destroy();
    else if (format === 'mjpeg' && queued > BUDGET_BYTES) {
      live.delete(response);
      joining.add(response);
    } else response.write(chunk);
  }
  if (start < 0) return;
  for (const response of joining) {
    joining.delete(response);
    live.add(response);
    if (format === 'flv') response.write(init);
    response.write(chunk.subarray(start));
  }
}

if (format === 'mjpeg') {
  get(values.source!, (upstream) => {
    contentType = upstream.headers['content-type'] ?? 'multipart/x-mixed-replace';
    const boundary = /boundary="?([^";]+)/i.exec(contentType)?.[1] ?? '';
    frameStart = Buffer.from(`--${boundary.replace(/^--/, '')}`, 'latin1');
    upstream.on('data', broadcast);
    upstream.on('end', () => process.exit(1));
  }).on('error', () => process.exit(1));
} else {
  const tracker = new FlvKeyframeTracker();
  findStart = (chunk) => tracker.push(chunk);
  const ffmpeg = spawn('ffmpeg', JSON.parse(values.ffmpeg!) as string[], { stdio: ['ignore', 'pipe', 'inherit'] });
  ffmpeg.stdout.on('data', broadcast);
  ffmpeg.on('exit', () => process.exit(1));
  process.on('exit', () => ffmpeg.kill('SIGKILL'));
}

createServer((request, response) => {
  response.writeHead(200, { 'Content-Type': contentType, 'Cache-Control': 'no-cache' });
  joining.add(response);
  response.on('close', () => {
    live.delete(response);
    joining.delete(response);
  });
}).listen(Number(values.port), '127.0.0.1');
process.on('SIGTERM', () => process.exit(0));
