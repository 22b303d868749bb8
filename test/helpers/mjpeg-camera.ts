import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/** The boundary mjpg-streamer writes. */
const BOUNDARY = 'boundarydonotcross';

export interface MjpegCameraOptions {
  /** The JPEGs sent in turn, looping. */
  readonly frames: readonly Buffer[];
  readonly rate: number;
  /** Each frame leaves up to this many ms early or late (real cameras and networks are not exact). */
  readonly jitterMs?: number;
}

/**
 * An HTTP MJPEG camera in the style of mjpg-streamer (`/?action=stream`, multipart/x-mixed-replace with
 * `--boundarydonotcross` parts carrying Content-Length), on 127.0.0.1 and port 0, sending `frames` at `rate` per second.
 */
export class MjpegCamera {
  private readonly sockets = new Set<Socket>();
  private readonly timers = new Set<NodeJS.Timeout>();

  private constructor(
    private readonly server: http.Server,
    readonly options: MjpegCameraOptions,
  ) {}

  static async start(options: MjpegCameraOptions): Promise<MjpegCamera> {
    const server = http.createServer();
    const camera = new MjpegCamera(server, options);
    server.on('connection', (socket: Socket) => {
      camera.sockets.add(socket);
      socket.on('close', () => camera.sockets.delete(socket));
    });
    server.on('request', (request, response) => camera.stream(response));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return camera;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/?action=stream`;
  }

  async close(): Promise<void> {
    for (const timer of this.timers) clearTimeout(timer);
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private stream(response: http.ServerResponse): void {
    response.writeHead(200, { 'Content-Type': `multipart/x-mixed-replace;boundary=${BOUNDARY}`, 'Cache-Control': 'no-cache' });
    const { frames, rate, jitterMs = 0 } = this.options;
    const start = performance.now();
    let index = 0;
    const next = (): void => {
      const frame = frames[index % frames.length]!;
      response.write(`--${BOUNDARY}\r\nContent-Type: image/jpeg\r\nContent-Length: ${frame.length}\r\n\r\n`);
      response.write(frame);
      response.write('\r\n');
      index++;
      // Scheduled against the start, so jitter and timer lateness never add up into a slower rate.
      const due = start + (index * 1000) / rate + (Math.random() * 2 - 1) * jitterMs;
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        if (!response.destroyed) next();
      }, Math.max(0, due - performance.now()));
      this.timers.add(timer);
    };
    next();
  }
}
