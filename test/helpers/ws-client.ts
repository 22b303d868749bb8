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

/** An access unit of a raw-mode message (after its 12-byte header) as Annex B, for ffmpeg's h264 demuxer. */
export function rawUnitToAnnexB(message: Buffer): Buffer {
  const parts: Buffer[] = [];
  for (let at = 12; at + 4 <= message.length;) {
    const length = message.readUInt32BE(at);
    parts.push(Buffer.from([0, 0, 0, 1]), message.subarray(at + 4, at + 4 + length));
    at += 4 + length;
  }
  return Buffer.concat(parts);
}

/** The SPS and PPS of a base64 avcC (a config message's description) as Annex B. */
export function avcCToAnnexB(description: string): Buffer {
  const avcC = Buffer.from(description, 'base64');
  const parts: Buffer[] = [];
  let at = 5;
  const spsCount = avcC[at++]! & 0x1f;
  for (let i = 0; i < spsCount; i++, at += 2 + avcC.readUInt16BE(at)) parts.push(Buffer.from([0, 0, 0, 1]), avcC.subarray(at + 2, at + 2 + avcC.readUInt16BE(at)));
  const ppsCount = avcC[at++]!;
  for (let i = 0; i < ppsCount; i++, at += 2 + avcC.readUInt16BE(at)) parts.push(Buffer.from([0, 0, 0, 1]), avcC.subarray(at + 2, at + 2 + avcC.readUInt16BE(at)));
  return Buffer.concat(parts);
}
