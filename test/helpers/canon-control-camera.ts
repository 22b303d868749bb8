import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/** How the simulated camera answers now. */
export type CanonControlMode =
  | 'ok'
  /** GetCameraControl answers HTTP 200 with a Livescope error (control not permitted). */
  | 'refuse'
  /** Every request gets HTTP 503, as a camera with too many clients. */
  | 'busy'
  /** Requests are accepted and never answered. */
  | 'silent';

/** One request the camera received. */
export interface CanonControlRequest {
  readonly command: string;
  readonly params: Record<string, string>;
  readonly at: number;
}

const BANNER = '--- WebView Livescope Http Server Error ---';

/**
 * A Canon WebView HTTP camera's control side, for tests: sessions (OpenCameraServer), one controlling client at a time
 * (GetCameraControl), OperateCamera in 0.01 degrees within its limits, GetCameraInfo, and the camera's own errors
 * (Livescope-Status on HTTP 200, 503, unknown connection id, control taken by another client).
 */
export class CanonControlCamera {
  mode: CanonControlMode = 'ok';
  /** Position in 0.01 degrees. */
  pan = 0;
  tilt = 0;
  zoom = 4000;
  readonly limits = { panLeft: -17000, panRight: 17000, tiltDown: -9000, tiltUp: 1000, zoomTele: 300, zoomWide: 4500 };
  readonly requests: CanonControlRequest[] = [];
  /** Basic credentials the camera wants (`user:password`), or none. */
  credentials: string | undefined;
  private readonly sessions = new Set<string>();
  private controller: string | undefined;
  private serial = 0;
  private readonly sockets = new Set<Socket>();

  private port = 0;

  private constructor(private readonly server: Server) {}

  static async start(): Promise<CanonControlCamera> {
    const server = createServer();
    const camera = new CanonControlCamera(server);
    server.on('request', (request, response) => camera.handle(request, response));
    server.on('connection', (socket) => {
      camera.sockets.add(socket);
      socket.once('close', () => camera.sockets.delete(socket));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    camera.port = (server.address() as AddressInfo).port;
    return camera;
  }

  /** Kept after close, so that tests can dial a camera that is gone. */
  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Another client (the camera's own viewer) takes control: the relay's next OperateCamera is refused. */
  takeControlElsewhere(): void {
    this.controller = 'elsewhere';
  }

  commands(name: string): CanonControlRequest[] {
    return this.requests.filter((request) => request.command === name);
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private handle(request: IncomingMessage, response: ServerResponse): void {
    const url = new URL(request.url ?? '/', 'http://camera');
    const command = url.pathname.replace(/^\/-wvhttp-01-\//, '');
    const params = Object.fromEntries(url.searchParams);
    this.requests.push({ command, params, at: performance.timeOrigin + performance.now() });
    if (this.mode === 'silent') return;
    if (this.mode === 'busy') return this.reply(response, 503, '503 too many clients', 'Too many clients\r\n');
    if (this.credentials && request.headers.authorization !== `Basic ${Buffer.from(this.credentials).toString('base64')}`) {
      return this.error(response, 401, 'unauthorized');
    }
    if (command === 'OpenCameraServer') {
      const id = `${(++this.serial).toString(16).padStart(4, '0').toUpperCase()}-0000C0DE`;
      this.sessions.add(id);
      return this.reply(response, 200, '0', `connection_id=${id}\r\n`);
    }
    const id = params.connection_id ?? '';
    if (!this.sessions.has(id)) return this.error(response, 501, 'unknown connection id');
    if (command === 'CloseCameraServer') {
      this.sessions.delete(id);
      if (this.controller === id) this.controller = undefined;
      return this.reply(response, 200, '0', 'OK.\r\n');
    }
    if (command === 'GetCameraControl') {
      if (this.mode === 'refuse') return this.error(response, 403, 'camera control not permitted');
      this.controller = id;
      return this.reply(response, 200, '0', 'OK.\r\n');
    }
    if (command === 'ReleaseCameraControl') {
      if (this.controller === id) this.controller = undefined;
      return this.reply(response, 200, '0', 'OK.\r\n');
    }
    if (command === 'GetCameraInfo') {
      const l = this.limits;
      return this.reply(response, 200, '0', [
        `pan_current_value=${this.pan}`, `tilt_current_value=${this.tilt}`, `zoom_current_value=${this.zoom}`,
        `pan_left_limit=${l.panLeft}`, `pan_right_limit=${l.panRight}`, `tilt_up_limit=${l.tiltUp}`, `tilt_down_limit=${l.tiltDown}`,
        `zoom_tele_limit=${l.zoomTele}`, `zoom_wide_limit=${l.zoomWide}`, '',
      ].join('\r\n'));
    }
    if (command === 'OperateCamera') {
      if (this.controller !== id) return this.error(response, 403, 'camera operated by another client');
      const values = ['pan', 'tilt', 'zoom'].map((key) => params[key]);
      if (!values.every((value) => value === undefined || /^-?\d{1,6}$/.test(value))) return this.error(response, 406, 'invalid parameter');
      const [pan, tilt, zoom] = values.map((value) => (value === undefined ? undefined : Number(value)));
      const l = this.limits;
      if ((pan !== undefined && (pan < l.panLeft || pan > l.panRight)) || (tilt !== undefined && (tilt < l.tiltDown || tilt > l.tiltUp)) || (zoom !== undefined && (zoom < l.zoomTele || zoom > l.zoomWide))) {
        return this.error(response, 406, 'parameter out of range');
      }
      this.pan = pan ?? this.pan;
      this.tilt = tilt ?? this.tilt;
      this.zoom = zoom ?? this.zoom;
      return this.reply(response, 200, '0', 'OK.\r\n');
    }
    this.error(response, 404, 'unknown command');
  }

  private error(response: ServerResponse, code: number, message: string): void {
    this.reply(response, 200, `${code} ${message}`, `${BANNER}\r\n${code} ${message}\r\n`);
  }

  private reply(response: ServerResponse, status: number, livescope: string, body: string): void {
    response.writeHead(status, { 'Content-Type': 'text/plain', 'Livescope-Status': livescope, Connection: 'close' });
    response.end(body);
  }
}
