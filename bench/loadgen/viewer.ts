import { connect, type Socket } from 'node:net';
import { now } from '../clock.ts';
import { FlvTagWalker } from './flv-tags.ts';
import { ResponseReader, type BodySink } from './http-reader.ts';
import { MjpegFrameFinder } from './mjpeg-frames.ts';

/** The stream formats the load generator reads ('ws': /NAME.ws in raw mode, ws-viewer.ts). */
export type StreamFormat = 'mjpeg' | 'flv' | 'ws';

/** Where a viewer connects. */
export interface StreamTarget {
  readonly port: number;
  readonly path: string;
  readonly format: StreamFormat;
}

/** What a viewer reports upward. */
export interface ViewerListener<Viewer = RawViewer> {
  /** A whole frame arrived: MJPEG key = the camera's send stamp (ms); FLV and ws key = the frame's timestamp (ms). */
  onFrame(key: number, at: number, viewer: Viewer): void;
  /** The response head arrived (status 200; 101 counts as 200 for ws) or the connection failed before it (status 0). */
  onAnswer?(status: number, viewer: Viewer): void;
  /** The connection ended after a 200. */
  onEnd?(reason: string, viewer: Viewer): void;
}

/**
 * One viewer on a raw TCP socket: a hand-written HTTP/1.1 GET, then the body walked just enough to count frames.
 * No HTTP client library, so thousands of them cost little more than their sockets.
 */
export class RawViewer {
  bytes = 0;
  frames = 0;
  status = 0;
  ended = false;
  readonly openedAt = now();
  private readonly socket: Socket;
  private readonly reader: ResponseReader;
  private readonly body: MjpegFrameFinder | FlvTagWalker;

  constructor(target: StreamTarget, listener: ViewerListener, options: { readBody?: boolean } = {}) {
    const onFrame = (key: number, at: number): void => {
      this.frames++;
      listener.onFrame(key, at, this);
    };
    this.body = target.format === 'mjpeg'
      ? new MjpegFrameFinder(onFrame)
      : new FlvTagWalker((tag, at) => {
        if (tag.type === 9 && !tag.config) onFrame(tag.timestamp, at);
      });
    const sink: BodySink = this.body;
    this.reader = new ResponseReader(sink, (status) => {
      this.status = status;
      listener.onAnswer?.(status, this);
      if (status !== 200) this.close();
    });
    this.socket = connect({ port: target.port, host: '127.0.0.1', noDelay: true });
    this.socket.on('connect', () => {
      this.socket.write(`GET ${target.path} HTTP/1.1\r\nHost: 127.0.0.1:${target.port}\r\nUser-Agent: relay-bench\r\n\r\n`);
      // A viewer that never reads: the server's writes pile up in the kernel and then in its own queue.
      if (options.readBody === false) this.socket.pause();
    });
    this.socket.on('data', (chunk: Buffer) => {
      this.bytes += chunk.length;
      this.reader.push(chunk, now());
      const failure = this.reader.failure ?? (this.body instanceof FlvTagWalker ? this.body.failure : undefined);
      if (failure) this.finish(failure, listener);
    });
    this.socket.on('error', () => undefined);
    this.socket.on('close', () => this.finish('closed by server', listener));
  }

  /** Frames cut short by a server that skipped bytes (MJPEG only). */
  get cutFrames(): number {
    return this.body instanceof MjpegFrameFinder ? this.body.cutFrames : 0;
  }

  close(): void {
    this.ended = true;
    this.socket.destroy();
  }

  private finish(reason: string, listener: ViewerListener): void {
    if (this.ended) return;
    this.ended = true;
    this.socket.destroy();
    if (this.status === 0) listener.onAnswer?.(0, this);
    else if (this.status === 200) listener.onEnd?.(reason, this);
  }
}
