import { connect, type Socket } from 'node:net';

/** A reader that only counts bytes: an HTTP viewer, or an RTSP client after SETUP and PLAY. */
export interface ByteReader {
  bytes: number;
  readonly socket: Socket;
}

/** An HTTP viewer of `path`, resolved once the first bytes arrive. */
export function httpReader(port: number, path: string): Promise<ByteReader> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.write(`GET ${path} HTTP/1.1\r\nHost: bench\r\n\r\n`));
    const reader: ByteReader = { bytes: 0, socket };
    socket.on('data', (chunk) => (reader.bytes += chunk.length));
    socket.once('data', () => resolve(reader));
    socket.on('error', reject);
  });
}

/**
 * An RTSP reader over TCP interleaved: SETUP of `base/track`, then PLAY of `base`; resolved once PLAY is answered.
 * Any RTSP server that accepts SETUP without DESCRIBE (the relay, gst-rtsp-server) will do.
 */
export function rtspReader(port: number, base: string, track: string): Promise<ByteReader> {
  return new Promise((resolve, reject) => {
    const url = `rtsp://127.0.0.1:${port}/${base}`;
    const socket = connect(port, '127.0.0.1', () => socket.write(`SETUP ${url}/${track} RTSP/1.0\r\nCSeq: 1\r\nTransport: RTP/AVP/TCP;unicast;interleaved=0-1\r\n\r\n`));
    const reader: ByteReader = { bytes: 0, socket };
    let text = '';
    let state: 'setup' | 'play' | 'playing' = 'setup';
    socket.on('data', (chunk: Buffer) => {
      reader.bytes += chunk.length;
      if (state === 'playing') return;
      text += chunk.toString('latin1');
      const session = /Session: ([^;\r\n]+)/.exec(text)?.[1];
      if (state === 'setup' && session) {
        state = 'play';
        socket.write(`PLAY ${url} RTSP/1.0\r\nCSeq: 2\r\nSession: ${session}\r\n\r\n`);
      }
      if (state === 'play' && /CSeq: 2/.test(text)) {
        state = 'playing';
        resolve(reader);
      }
      if (/^RTSP\/1\.0 [45]\d\d/m.test(text)) reject(new Error(`RTSP reader refused: ${text.split('\r\n')[0]}`));
    });
    socket.on('error', reject);
  });
}
