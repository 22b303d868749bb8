import type { Socket } from 'node:net';
import { InterleavedDemuxer } from '../../media/rtsp/interleaved.ts';
import { serializeResponse, type RtspMessage } from '../../media/rtsp/message.ts';
import { plainAddress } from '../../lib/address.ts';
import type { Logger } from '../../lib/log.ts';
import { TcpDelivery } from './reader.ts';
import { readRequest, type RtspRequest } from './request.ts';
import type { RtspSession } from './session.ts';

/** A reply, and what to do once it is written (start RTP after a PLAY reply; close after a fatal one). */
export interface RtspReply {
  readonly status: number;
  readonly headers?: ReadonlyArray<readonly [string, string]>;
  readonly body?: Buffer;
  readonly after?: () => void;
}

/** Answers one request; never throws for bad input (a thrown error is a bug, answered 500). */
export type RequestHandler = (connection: RtspConnection, request: RtspRequest) => Promise<RtspReply>;

/** Reason phrases of the statuses the server sends (RFC 2326 7.1.1). */
export const REASONS: Record<number, string> = {
  200: 'OK', 400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 410: 'Gone', 405: 'Method Not Allowed', 453: 'Not Enough Bandwidth',
  454: 'Session Not Found', 455: 'Method Not Valid in This State', 461: 'Unsupported Transport',
  500: 'Internal Server Error', 501: 'Not Implemented', 503: 'Service Unavailable',
};

/** Requests parsed and not yet answered; past this the connection stops reading until it catches up. */
const MAX_QUEUED_REQUESTS = 16;
/**
 * Bytes waiting for a client that sends requests but does not read the replies; past this it is disconnected. Above
 * the default ViewerMaxQueue (8 MiB), so an interleaved reader's own media backlog meets its viewer limits first.
 */
const MAX_UNREAD_BYTES = 16 * 1024 * 1024;
/** How long a connection that broke the protocol gets to read its 400 before it is closed. */
const FAIL_LINGER_MS = 2000;

/**
 * One RTSP control connection: splits its bytes into requests and interleaved data (bounded by the demuxer), answers
 * requests one at a time in order (pipelined requests wait their turn), and stops reading from a client that sends
 * faster than it reads.
 */
export class RtspConnection {
  readonly sessions = new Set<RtspSession>();
  /** The client's address as limits and logs name it (an IPv4 peer without its ::ffff: prefix). */
  readonly address: string;
  /** Interleaved packets from the client on channels no session of this connection uses. */
  unexpectedData = 0;
  private readonly demuxer = new InterleavedDemuxer();
  private readonly queue: RtspMessage[] = [];
  private busy = false;
  private closed = false;

  constructor(
    readonly socket: Socket,
    private readonly handler: RequestHandler,
    private readonly onInterleaved: (connection: RtspConnection, channel: number) => void,
    private readonly log: Logger,
  ) {
    this.address = plainAddress(socket.remoteAddress);
    socket.setNoDelay(true);
    socket.setMaxListeners(64); // each interleaved session's Viewer listens for close
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    // A client that resets the connection is leaving, not failing.
    socket.on('error', () => {});
    socket.once('close', () => {
      this.closed = true;
      this.queue.length = 0;
    });
  }

  get remoteAddress(): string {
    return this.socket.remoteAddress ?? 'unknown';
  }

  get localAddress(): string {
    return this.socket.localAddress ?? '0.0.0.0';
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** The lowest interleaved channel pair no session of this connection uses. */
  freeChannels(): [number, number] | undefined {
    for (let channel = 0; channel < 255; channel += 2) {
      if (!this.channelInUse(channel) && !this.channelInUse(channel + 1)) return [channel, channel + 1];
    }
    return undefined;
  }

  channelInUse(channel: number): boolean {
    for (const session of this.sessions) {
      for (const { delivery } of session.readers) if (delivery instanceof TcpDelivery && delivery.channels.includes(channel)) return true;
    }
    return false;
  }

  close(): void {
    this.socket.destroy();
  }

  private onData(chunk: Buffer): void {
    if (this.closed) return;
    let items;
    try {
      items = this.demuxer.push(chunk);
    } catch (error) {
      return this.fail((error as Error).message.replace(/^RTSP: /, ''));
    }
    for (const item of items) {
      if (item.kind === 'data') this.onInterleaved(this, item.channel);
      else if (!item.message.startLine.startsWith('RTSP/')) this.queue.push(item.message); // a client's reply to nothing is dropped
    }
    if (this.socket.writableLength > MAX_UNREAD_BYTES) return this.close();
    // A flood of pipelined requests waits in the kernel until the ones read are answered.
    if (this.queue.length > MAX_QUEUED_REQUESTS) this.socket.pause();
    void this.drain();
  }

  private resumeIfCaughtUp(): void {
    if (!this.closed && this.queue.length <= MAX_QUEUED_REQUESTS) this.socket.resume();
  }

  private async drain(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    try {
      for (let message = this.queue.shift(); message && !this.closed; message = this.queue.shift()) {
        const ok = await this.answer(message);
        if (!ok) return;
      }
    } finally {
      this.busy = false;
    }
    this.resumeIfCaughtUp();
  }

  /** Answers one message; false when the connection is being closed. */
  private async answer(message: RtspMessage): Promise<boolean> {
    const request = readRequest(message);
    if ('problem' in request) {
      if (request.fatal) {
        this.fail(request.problem);
        return false;
      }
      this.write({ status: 400, body: Buffer.from(`${request.problem}\n`) }, undefined);
      return true;
    }
    let reply: RtspReply;
    try {
      reply = await this.handler(this, request);
    } catch (error) {
      this.log.error(`${request.method} failed: ${(error as Error).stack ?? String(error)}`);
      reply = { status: 500 };
    }
    if (this.closed) return false;
    this.write(reply, request.cseq);
    reply.after?.();
    return true;
  }

  private write(reply: RtspReply, cseq: string | undefined): void {
    const headers: Array<readonly [string, string]> = [];
    if (cseq !== undefined) headers.push(['CSeq', cseq]);
    headers.push(['Server', 'camera-relay'], ...(reply.headers ?? []));
    const body = reply.body ?? Buffer.alloc(0);
    if (body.length > 0) headers.push(['Content-Length', String(body.length)]);
    this.socket.write(Buffer.concat([serializeResponse(reply.status, REASONS[reply.status] ?? 'Unknown', headers), body]));
  }

  /** Answers 400 to what cannot be parsed (it may be mid-stream, so no CSeq), then closes. */
  private fail(reason: string): void {
    if (this.closed) return;
    this.closed = true;
    this.queue.length = 0;
    this.socket.pause();
    this.write({ status: 400, headers: [['Connection', 'close']], body: Buffer.from(`${reason}\n`) }, undefined);
    this.socket.end();
    setTimeout(() => this.socket.destroy(), FAIL_LINGER_MS).unref();
  }
}
