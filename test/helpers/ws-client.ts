import WebSocket from 'ws';

/** What a test WebSocket client got from /NAME.ws. */
export interface WsCapture {
  /** JSON text messages, in order. */
  readonly texts: Array<Record<string, unknown>>;
  /** Binary messages, in order. */
  readonly binaries: Buffer[];
  /** Close code and reason, once closed. */
  closed?: { code: number; reason: string };
  readonly socket: WebSocket;
}

/**
 * Opens `url` (ws://...), sends `hello` (an object as JSON, a string as it is, or nothing) and records what comes back.
 * Resolves once open; the capture keeps filling until the socket closes or `close()` is called.
 */
export function openWs(url: string, hello: object | string | undefined, options: WebSocket.ClientOptions = {}): Promise<WsCapture> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url, { perMessageDeflate: false, ...options });
    const capture: WsCapture = { texts: [], binaries: [], socket };
    socket.on('message', (data, isBinary) => {
      const buffer = Buffer.isBuffer(data) ? data : Buffer.concat(data as Buffer[]);
      if (isBinary) capture.binaries.push(buffer);
      else capture.texts.push(JSON.parse(buffer.toString('utf8')) as Record<string, unknown>);
    });
    socket.on('close', (code, reason) => (capture.closed = { code, reason: reason.toString() }));
    socket.once('unexpected-response', (_request, response) => reject(new Error(`HTTP ${response.statusCode}`)));
    socket.once('error', reject);
    socket.once('open', () => {
      socket.off('error', reject);
      socket.on('error', () => {});
      if (hello !== undefined) socket.send(typeof hello === 'string' ? hello : JSON.stringify(hello));
      resolve(capture);
    });
  });
}

/** Waits until `done()` holds (polling), or fails after `ms`. */
export async function waitFor(done: () => boolean, ms: number, what: string): Promise<void> {
  const until = Date.now() + ms;
  while (!done()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** The HTTP status an upgrade request to `url` is refused with (undefined when it is accepted). */
export function upgradeStatus(url: string, options: WebSocket.ClientOptions = {}): Promise<number | undefined> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url, options);
    socket.once('unexpected-response', (request, response) => {
      resolve(response.statusCode);
      request.destroy();
    });
    socket.once('open', () => {
      resolve(undefined);
      socket.terminate();
    });
    socket.once('error', (error) => reject(error));
  });
}

export const H264_HELLO = { version: 1, mode: 'raw', codecs: ['avc1.64001f'] } as const;
