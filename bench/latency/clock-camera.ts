import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { JpegSplitter } from '../../media/jpeg/splitter.ts';
import { drawPattern, PATTERN } from './pattern.ts';

const BOUNDARY = 'clockframe';

/**
 * An MJPEG camera over HTTP whose every frame shows the wall clock (ms since `base`) as the bench pattern. Frames are
 * drawn in Node at `fps`, encoded to JPEG by one ffmpeg (mjpeg, a few ms per frame) and sent to every client.
 */
export class ClockCamera {
  readonly base = Date.now();
  private server: Server | undefined;
  private encoder: ChildProcess | undefined;
  private timer: NodeJS.Timeout | undefined;
  private readonly clients = new Set<ServerResponse>();
  private readonly frame = Buffer.alloc(PATTERN.width * PATTERN.height);

  constructor(readonly fps = 25, private readonly ffmpeg = 'ffmpeg') {}

  get url(): string {
    return `http://127.0.0.1:${(this.server?.address() as AddressInfo).port}/clock.mjpg`;
  }

  async start(): Promise<void> {
    const { width, height } = PATTERN;
    this.encoder = spawn(this.ffmpeg, [
      '-hide_banner', '-loglevel', 'error', '-f', 'rawvideo', '-pix_fmt', 'gray', '-s', `${width}x${height}`, '-r', String(this.fps),
      '-i', 'pipe:0', '-c:v', 'mjpeg', '-q:v', '5', '-pix_fmt', 'yuvj420p', '-f', 'mjpeg', '-flush_packets', '1', 'pipe:1',
    ], { stdio: ['pipe', 'pipe', 'inherit'] });
    this.encoder.stdin!.on('error', () => undefined);
    const splitter = new JpegSplitter(1 << 22);
    this.encoder.stdout!.on('data', (chunk: Buffer) => {
      for (const jpeg of splitter.push(chunk)) this.send(jpeg);
    });
    this.server = createServer((request, response) => {
      response.writeHead(200, { 'Content-Type': `multipart/x-mixed-replace; boundary=${BOUNDARY}`, 'Cache-Control': 'no-cache', Connection: 'close' });
      this.clients.add(response);
      response.on('close', () => this.clients.delete(response));
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    const started = performance.now();
    let index = 0;
    // Frames are scheduled against an absolute clock, so timer drift does not lower the rate.
    const tick = (): void => {
      drawPattern(this.frame, Date.now() - this.base);
      this.encoder!.stdin!.write(this.frame);
      index++;
      this.timer = setTimeout(tick, Math.max(0, started + (index * 1000) / this.fps - performance.now()));
    };
    tick();
  }

  async stop(): Promise<void> {
    clearTimeout(this.timer);
    for (const client of this.clients) client.destroy();
    this.encoder?.kill('SIGKILL');
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  private send(jpeg: Buffer): void {
    const head = Buffer.from(`--${BOUNDARY}\r\nContent-Type: image/jpeg\r\nContent-Length: ${jpeg.length}\r\n\r\n`, 'latin1');
    const part = Buffer.concat([head, jpeg, Buffer.from('\r\n', 'latin1')]);
    for (const client of this.clients) if (client.writableLength < 4 * part.length) client.write(part);
  }
}
