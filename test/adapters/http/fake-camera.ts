import { createHash } from 'node:crypto';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/** Serves one path of the fake camera. */
export type Route = (request: IncomingMessage, response: ServerResponse, camera: FakeCamera) => void;

/**
 * An in-process HTTP camera on 127.0.0.1 and port 0 that serves scripted MJPEG streams, snapshots, auth challenges,
 * redirects and faults. It counts the TCP connections it accepted so tests can assert one upstream connection.
 */
export class FakeCamera {
  /** TCP connections accepted so far. */
  connections = 0;
  /** Every request seen: path, query and the Authorization header it carried. */
  readonly requests: Array<{ path: string; query: string; authorization: string | undefined }> = [];
  private readonly sockets = new Set<Socket>();
  private readonly timers = new Set<NodeJS.Timeout>();

  private constructor(
    private readonly server: http.Server,
    private readonly routes: Record<string, Route>,
  ) {}

  /** Starts a camera serving `routes` (keys are paths, without the query). */
  static async start(routes: Record<string, Route>): Promise<FakeCamera> {
    const server = http.createServer();
    const camera = new FakeCamera(server, routes);
    server.keepAliveTimeout = 30_000;
    server.on('connection', (socket: Socket) => {
      camera.connections++;
      camera.sockets.add(socket);
      socket.on('close', () => camera.sockets.delete(socket));
    });
    server.on('request', (request, response) => camera.handle(request, response));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return camera;
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  /** The camera's URL for `path`, optionally with credentials in it. */
  url(path: string, userinfo = ''): string {
    return `http://${userinfo ? `${userinfo}@` : ''}127.0.0.1:${this.port}${path}`;
  }

  /** TCP connections open right now. */
  get openSockets(): number {
    return this.sockets.size;
  }

  /** Resolves once no connection is open, or rejects after `timeoutMs`. */
  async waitForNoSockets(timeoutMs = 2000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.sockets.size > 0) {
      if (Date.now() > deadline) throw new Error(`${this.sockets.size} connections still open after ${timeoutMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }

  /** A timer the camera cancels when it closes, so no scripted stream outlives its test. */
  later(ms: number, run: () => void): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      run();
    }, ms);
    this.timers.add(timer);
  }

  async close(): Promise<void> {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private handle(request: IncomingMessage, response: ServerResponse): void {
    const [path = '/', query = ''] = (request.url ?? '/').split('?');
    this.requests.push({ path, query, authorization: request.headers.authorization });
    const route = this.routes[path];
    if (!route) {
      response.writeHead(404, 'Not Found', { 'Content-Length': '0' });
      response.end();
      return;
    }
    route(request, response, this);
  }
}

/** A small JPEG that the JPEG splitter accepts: SOI, APP0, SOS, entropy bytes that carry `n`, EOI. */
export function fakeJpeg(n: number, padding = 0): Buffer {
  const app0 = Buffer.from([0xff, 0xe0, 0x00, 0x07, 0x4a, 0x46, 0x49, 0x46, 0x00]);
  const sos = Buffer.from([0xff, 0xda, 0x00, 0x08, 0x01, 0x01, 0x00, 0x00, 0x3f, 0x00]);
  const entropy = Buffer.alloc(4 + padding, 0x55);
  entropy.writeUInt32BE(n >>> 0);
  for (let i = 0; i < 4; i++) if (entropy[i] === 0xff) entropy[i] = 0xfe; // keep the markers out of the data
  return Buffer.concat([Buffer.from([0xff, 0xd8]), app0, sos, entropy, Buffer.from([0xff, 0xd9])]);
}

/** How one multipart part is written, so tests can vary what real cameras vary. */
export interface PartStyle {
  /** The delimiter line without CR LF, e.g. `--myboundary` or Canon's `--LivescopeImage`. */
  readonly delimiter: string;
  /** Include a Content-Length part header. */
  readonly contentLength: boolean;
  /** Header names in this case. */
  readonly headerCase: 'lower' | 'upper' | 'title';
  /** Bytes written after each part's payload (the usual is CR LF; some cameras add blank lines). */
  readonly afterPart: string;
}

export const STANDARD_PART: PartStyle = { delimiter: '--myboundary', contentLength: true, headerCase: 'title', afterPart: '\r\n' };

/** One part, delimiter line to payload and its trailing bytes. */
export function part(payload: Buffer, style: PartStyle = STANDARD_PART): Buffer {
  const name = (text: string): string => (style.headerCase === 'lower' ? text.toLowerCase() : style.headerCase === 'upper' ? text.toUpperCase() : text);
  let head = `${style.delimiter}\r\n${name('Content-Type')}: image/jpeg\r\n`;
  if (style.contentLength) head += `${name('Content-Length')}: ${payload.length}\r\n`;
  return Buffer.concat([Buffer.from(`${head}\r\n`, 'latin1'), payload, Buffer.from(style.afterPart, 'latin1')]);
}

/** What a scripted stream does once its pieces are written. */
export type StreamEnd = 'end' | 'destroy' | 'stall';

/** A response body written piece by piece, `intervalMs` apart, then ended, cut or left hanging. */
export interface ScriptedStream {
  readonly status?: number;
  readonly headers: Record<string, string>;
  /** Pieces, or a function giving piece i (undefined ends the script); called as the stream goes. */
  readonly pieces: readonly Buffer[] | ((index: number) => Buffer | undefined);
  readonly intervalMs?: number;
  readonly end?: StreamEnd;
  /** Write without chunked encoding, the body delimited by the connection's close (HTTP/1.0 cameras). */
  readonly closeDelimited?: boolean;
}

/** A route that plays a scripted body. */
export function scripted(script: ScriptedStream): Route {
  return (_request, response, camera) => {
    if (script.closeDelimited) {
      response.removeHeader('Transfer-Encoding');
      response.shouldKeepAlive = false;
    }
    response.writeHead(script.status ?? 200, script.headers);
    const pieceAt = (i: number): Buffer | undefined => (typeof script.pieces === 'function' ? script.pieces(i) : script.pieces[i]);
    const write = (i: number): void => {
      if (response.destroyed) return;
      const piece = pieceAt(i);
      if (piece === undefined) {
        if (script.end === 'destroy') response.socket?.destroy();
        else if (script.end !== 'stall') response.end();
        return;
      }
      response.write(piece);
      camera.later(script.intervalMs ?? 0, () => write(i + 1));
    };
    write(0);
  };
}

/** A route that answers one JPEG with Content-Length, as a snapshot camera does. */
export function snapshot(makeJpeg: (count: number) => Buffer, headers: Record<string, string> = {}): Route {
  let count = 0;
  return (_request, response) => {
    const body = makeJpeg(count++);
    response.writeHead(200, { 'Content-Type': 'image/jpeg', 'Content-Length': String(body.length), ...headers });
    response.end(body);
  };
}

/** A route that answers with a status and a short body. */
export function status(code: number, message: string, headers: Record<string, string> = {}): Route {
  return (_request, response) => {
    const body = `${code} ${message}\n`;
    response.writeHead(code, message, { 'Content-Type': 'text/plain', 'Content-Length': String(body.length), ...headers });
    response.end(body);
  };
}

/** A route that redirects to `location`. */
export function redirect(code: number, location: string): Route {
  return status(code, 'Moved', { Location: location });
}

/** Canon WebView's way of failing: HTTP 200, a Livescope-Status error and a text body. */
export function livescopeFailure(code: number, message: string): Route {
  return (_request, response) => {
    const body = `--- WebView Livescope Http Server Error ---\r\n${code} ${message}\r\n`;
    response.removeHeader('Transfer-Encoding');
    response.shouldKeepAlive = false;
    response.writeHead(200, { 'Content-Type': 'text/plain', 'Livescope-Status': `${code} ${message}` });
    response.end(body);
  };
}

/** Wraps a route behind HTTP Basic auth. */
export function basicAuth(user: string, password: string, route: Route): Route {
  const expected = `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
  return (request, response, camera) => {
    if (request.headers.authorization === expected) return route(request, response, camera);
    status(401, 'Unauthorized', { 'WWW-Authenticate': 'Basic realm="camera"' })(request, response, camera);
  };
}

/** The nonce counts a Digest-protected route accepted, in order, so tests can check they go up. */
export interface DigestLog {
  readonly acceptedNonceCounts: string[];
}

/** Wraps a route behind HTTP Digest auth (MD5, qop=auth), verifying the response independently of the adapter. */
export function digestAuth(user: string, password: string, route: Route, log: DigestLog = { acceptedNonceCounts: [] }): Route {
  const realm = 'camera@fake';
  const nonce = 'dcd98b7102dd2f0e8b11d0f600bfb0c093';
  const md5 = (text: string): string => createHash('md5').update(text).digest('hex');
  const challenge = `Digest realm="${realm}", qop="auth,auth-int", nonce="${nonce}", opaque="5ccc069c403ebaf9f0171e9517f40e41", algorithm=MD5`;
  return (request, response, camera) => {
    const header = request.headers.authorization ?? '';
    const field = (name: string): string | undefined => new RegExp(`(?:^Digest |,\\s*)${name}="?([^",]*)"?`).exec(header)?.[1];
    const ha1 = md5(`${user}:${realm}:${password}`);
    const ha2 = md5(`GET:${field('uri')}`);
    const expected = md5(`${ha1}:${nonce}:${field('nc')}:${field('cnonce')}:auth:${ha2}`);
    if (header.startsWith('Digest ') && field('uri') === request.url && field('response') === expected) {
      log.acceptedNonceCounts.push(field('nc') ?? '');
      return route(request, response, camera);
    }
    status(401, 'Unauthorized', { 'WWW-Authenticate': challenge })(request, response, camera);
  };
}
