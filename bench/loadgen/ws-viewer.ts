import WebSocket from 'ws';
import { now } from '../clock.ts';
import type { StreamTarget, ViewerListener } from './viewer.ts';

/** Bytes before the access unit in a raw-mode message (relay/outputs/ws/raw-unit.ts). */
const RAW_HEADER_BYTES = 12;
const RAW_KIND_VIDEO = 1;
/** The WebSocket frame head of a binary message the size of an access unit (2 to 10 bytes): counted as wire bytes. */
const frameHeadBytes = (length: number): number => (length < 126 ? 2 : length < 0x10000 ? 4 : 10);

/**
 * One viewer of /NAME.ws in raw mode (the WebCodecs player's mode) on the `ws` package: says hello, then counts the
 * bytes and video frames it receives. `bytes` counts message payloads plus their frame heads, the bytes on the wire
 * after the upgrade, so it compares with an FLV viewer's body bytes.
 */
export class WsViewer {
  bytes = 0;
  frames = 0;
  status = 0;
  ended = false;
  readonly cutFrames = 0;
  readonly openedAt = now();
  private readonly socket: WebSocket;

  constructor(target: StreamTarget, listener: ViewerListener<WsViewer>, options: { readBody?: boolean } = {}) {
    this.socket = new WebSocket(`ws://127.0.0.1:${target.port}${target.path}`, { perMessageDeflate: false, maxPayload: 16 * 1024 * 1024 });
    this.socket.on('upgrade', () => {
      this.status = 200;
      listener.onAnswer?.(200, this);
    });
    this.socket.on('unexpected-response', (_request, response) => {
      this.status = response.statusCode ?? 0;
      listener.onAnswer?.(this.status === 200 ? 0 : this.status, this);
      this.close();
    });
    this.socket.on('open', () => {
      this.socket.send(JSON.stringify({ version: 1, mode: 'raw', codecs: ['avc1.64001f'] }));
      // A viewer that never reads: the relay's writes pile up in the kernel and then in its own queue.
      if (options.readBody === false) this.socket.pause();
    });
    this.socket.on('message', (data, isBinary) => {
      const message = data as Buffer;
      this.bytes += message.length + frameHeadBytes(message.length);
      if (isBinary && message.length > RAW_HEADER_BYTES && message[0] === RAW_KIND_VIDEO) {
        this.frames++;
        // The key is the unit's timestamp in milliseconds on the stream's timeline.
        listener.onFrame(Number(message.readBigUInt64BE(4) / 1000n), now(), this);
      }
    });
    this.socket.on('error', () => undefined);
    this.socket.on('close', (code) => this.finish(`closed (${code})`, listener));
  }

  close(): void {
    this.ended = true;
    this.socket.terminate();
  }

  private finish(reason: string, listener: ViewerListener<WsViewer>): void {
    if (this.ended) return;
    this.ended = true;
    if (this.status === 0) listener.onAnswer?.(0, this);
    else if (this.status === 200) listener.onEnd?.(reason, this);
  }
}
