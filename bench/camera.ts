import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile } from 'node:fs/promises';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { now } from './clock.ts';
import { stampJpeg } from './stamp.ts';

const run = promisify(execFile);
const BOUNDARY = 'benchframe';
/** Frames in the loop: two seconds at 25 fps is enough for the encoder to see motion. */
const LOOP_FRAMES = 50;

/** Encodes the looped test pattern once (testsrc2, q 3: about 25 KB at 640x480) and caches it in the temp dir. */
export async function makeJpegs(width: number, height: number, ffmpeg = 'ffmpeg'): Promise<Buffer[]> {
  const dir = join(tmpdir(), `relay-bench-frames-${width}x${height}-q3`);
  if (!existsSync(join(dir, 'done'))) {
    await mkdir(dir, { recursive: true });
    await run(ffmpeg, [
      '-v', 'error', '-y', '-f', 'lavfi', '-i', `testsrc2=size=${width}x${height}:rate=25`,
      '-frames:v', String(LOOP_FRAMES), '-q:v', '3', '-f', 'image2', join(dir, 'f%03d.jpg'),
    ]);
    await run('touch', [join(dir, 'done')]);
  }
  const names = (await readdir(dir)).filter((name) => name.endsWith('.jpg')).sort();
  return Promise.all(names.map((name) => readFile(join(dir, name))));
}

/** An MJPEG camera over HTTP that stamps every frame with its send time and counts its connections. */
export class BenchCamera {
  /** Connections accepted since the last resetCounters(). */
  accepted = 0;
  framesSent = 0;
  readonly clients = new Set<ServerResponse>();
  private server: Server | undefined;
  private timer: NodeJS.Timeout | undefined;
  private index = 0;
  private nextAt = 0;

  constructor(
    private readonly jpegs: Buffer[],
    readonly fps: number,
  ) {}

  get meanFrameBytes(): number {
    return this.jpegs.reduce((sum, jpeg) => sum + jpeg.length, 0) / this.jpegs.length;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server?.address() as AddressInfo).port}/video.mjpg`;
  }

  async start(): Promise<void> {
    this.server = createServer((request, response) => {
      this.accepted++;
      response.writeHead(200, {
        'Content-Type': `multipart/x-mixed-replace; boundary=${BOUNDARY}`,
        'Cache-Control': 'no-cache',
        Connection: 'close',
      });
      this.clients.add(response);
      response.on('close', () => this.clients.delete(response));
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.nextAt = now();
    this.tick();
  }

  resetCounters(): void {
    this.accepted = this.clients.size;
    this.framesSent = 0;
  }

  async stop(): Promise<void> {
    clearTimeout(this.timer);
    for (const client of this.clients) client.destroy();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  /** Sends one frame and schedules the next against an absolute clock, so timer drift does not lower the rate. */
  private tick(): void {
    if (this.clients.size > 0) {
      const jpeg = stampJpeg(this.jpegs[this.index % this.jpegs.length]!, now());
      this.index++;
      const head = Buffer.from(`--${BOUNDARY}\r\nContent-Type: image/jpeg\r\nContent-Length: ${jpeg.length}\r\n\r\n`, 'latin1');
      const part = Buffer.concat([head, jpeg, Buffer.from('\r\n', 'latin1')]);
      // A camera never queues for a slow client: like real cameras, it skips a client whose socket is full.
      for (const client of this.clients) if (client.writableLength < 4 * part.length) client.write(part);
      this.framesSent++;
    }
    this.nextAt += 1000 / this.fps;
    const wait = this.nextAt - now();
    if (wait < -1000) this.nextAt = now();
    this.timer = setTimeout(() => this.tick(), Math.max(0, wait));
  }
}
