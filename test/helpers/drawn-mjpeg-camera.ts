import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { JpegSplitter } from '../../media/jpeg/splitter.ts';

const BOUNDARY = 'drawnframe';

export interface DrawnCameraOptions {
  readonly width: number;
  readonly height: number;
  readonly fps: number;
  /** The URL path the camera answers (any path is served; this one is what `url` says). */
  readonly path: string;
  /** Draws the next frame into the grey (one byte a pixel) buffer. */
  readonly draw: (frame: Buffer) => void;
  readonly quality?: number;
  readonly ffmpeg?: string;
}

/**
 * An HTTP MJPEG camera (multipart/x-mixed-replace) whose frames are drawn in Node at `fps`, encoded to JPEG by one
 * ffmpeg and sent to every client. ffmpeg runs on one thread without input buffering: otherwise it holds two frames
 * back, which latency benches would count as the relay's.
 */
export class DrawnMjpegCamera {
  private server: Server | undefined;
  private encoder: ChildProcess | undefined;
  private timer: NodeJS.Timeout | undefined;
  private readonly clients = new Set<ServerResponse>();
  private readonly frame: Buffer;

  constructor(private readonly options: DrawnCameraOptions) {
    this.frame = Buffer.alloc(options.width * options.height);
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server?.address() as AddressInfo).port}${this.options.path}`;
  }

  async start(): Promise<void> {
    const { width, height, fps, quality = 3, ffmpeg = 'ffmpeg' } = this.options;
    this.encoder = spawn(ffmpeg, [
      '-hide_banner', '-loglevel', 'error', '-fflags', 'nobuffer', '-threads', '1', '-f', 'rawvideo', '-pix_fmt', 'gray', '-s', `${width}x${height}`, '-r', String(fps),
      '-i', 'pipe:0', '-threads', '1', '-c:v', 'mjpeg', '-q:v', String(quality), '-pix_fmt', 'yuvj420p', '-f', 'mjpeg', '-flush_packets', '1', 'pipe:1',
    ], { stdio: ['pipe', 'pipe', 'ignore'] });
    this.encoder.stdin!.on('error', () => undefined);
    const splitter = new JpegSplitter(1 << 22);
    this.encoder.stdout!.on('data', (chunk: Buffer) => {
      for (const jpeg of splitter.push(chunk)) this.send(jpeg);
    });
    this.server = createServer((_request, response) => {
      response.writeHead(200, { 'Content-Type': `multipart/x-mixed-replace; boundary=${BOUNDARY}`, 'Cache-Control': 'no-cache', Connection: 'close' });
      this.clients.add(response);
      response.on('close', () => this.clients.delete(response));
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    const started = performance.now();
    let index = 0;
    // Frames are scheduled against an absolute clock, so timer drift does not lower the rate.
    const tick = (): void => {
      this.options.draw(this.frame);
      this.encoder!.stdin!.write(this.frame);
      index++;
      this.timer = setTimeout(tick, Math.max(0, started + (index * 1000) / fps - performance.now()));
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
