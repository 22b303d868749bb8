import net from 'node:net';
import { AdapterError, asAdapterError } from '../errors.ts';
import { Authenticator, chooseChallenge, type Credentials } from './auth.ts';
import { frameInterleaved, InterleavedDemuxer } from '../../media/rtsp/interleaved.ts';
import { isResponse, parseRequestLine, parseStatusLine, serializeRequest, type RtspHeaders } from '../../media/rtsp/message.ts';

/** A response to one request, its status line split. */
export interface RtspResponse {
  readonly status: number;
  readonly reason: string;
  readonly headers: RtspHeaders;
  readonly body: Buffer;
}

interface PendingRequest {
  readonly resolve: (response: RtspResponse) => void;
  readonly reject: (error: AdapterError) => void;
  readonly timer: NodeJS.Timeout;
}

/** What the connection needs from its owner: where the first failure goes. */
export interface ConnectionEvents {
  onFailure(error: AdapterError): void;
}

/** Where one track's packets go, interleaved or over UDP: what its SETUP routes to it. */
export interface RtpReceiver {
  onRtp(packet: Buffer): void;
  onRtcp(packet: Buffer): void;
}

/** Reason phrases come from the camera: keep them short and printable before they reach an error message. */
function safeReason(reason: string): string {
  return reason.replace(/[^\x20-\x7e]/g, '?').slice(0, 80);
}

/**
 * The RTSP control connection over TCP: sends requests with CSeq, matches responses, answers authentication
 * challenges with the camera's credentials, and hands interleaved RTP/RTCP straight to the track set up on its channel.
 * A receiver that throws fails the connection.
 */
export class RtspConnection {
  private readonly demuxer = new InterleavedDemuxer();
  private readonly pending = new Map<number, PendingRequest>();
  /** Interleaved channel to the handler of its packets; channels of tracks not set up are ignored. */
  private readonly channels = new Map<number, (payload: Buffer) => void>();
  private cseq = 0;
  private authenticator: Authenticator | undefined;
  private failed = false;
  /** A last request is being flushed before the socket closes. */
  private closing = false;

  private constructor(
    private readonly socket: net.Socket,
    private readonly credentials: Credentials | undefined,
    private readonly replyTimeoutMs: number,
    private readonly events: ConnectionEvents,
  ) {
    socket.on('data', (chunk: Buffer) => this.onChunk(chunk));
    socket.on('error', (error) => this.fail(new AdapterError('CLOSED', `RTSP: connection error: ${error.message}`)));
    socket.on('close', () => this.fail(new AdapterError('CLOSED', 'RTSP: the camera closed the connection')));
  }

  /** Connects within `timeoutMs`; rejects with CONNECT or TIMEOUT. */
  static open(host: string, port: number, options: {
    readonly timeoutMs: number;
    readonly replyTimeoutMs: number;
    readonly credentials: Credentials | undefined;
    readonly events: ConnectionEvents;
  }): Promise<RtspConnection> {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ host, port });
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new AdapterError('TIMEOUT', `RTSP: connect to ${host}:${port}: no answer within ${options.timeoutMs} ms`));
      }, options.timeoutMs);
      socket.once('error', (error) => {
        clearTimeout(timer);
        reject(new AdapterError('CONNECT', `RTSP: connect to ${host}:${port}: ${error.message}`));
      });
      socket.once('connect', () => {
        clearTimeout(timer);
        socket.removeAllListeners('error');
        socket.setNoDelay(true);
        resolve(new RtspConnection(socket, options.credentials, options.replyTimeoutMs, options.events));
      });
    });
  }

  /** The camera's address as the socket sees it (UDP packets are accepted only from there). */
  get remoteAddress(): string | undefined {
    return this.socket.remoteAddress;
  }

  /**
   * Sends a request and resolves with its 2xx response. A 401 is answered once with credentials (again after a stale
   * nonce); other statuses reject with UPSTREAM_STATUS naming the method, a final 401 with AUTH.
   */
  async request(method: string, uri: string, headers: ReadonlyArray<readonly [string, string]> = []): Promise<RtspResponse> {
    let response = await this.send(method, uri, headers);
    if (response.status === 401 && this.credentials) {
      const challenge = chooseChallenge(response.headers.getAll('WWW-Authenticate'));
      if (!challenge) throw new AdapterError('AUTH', `RTSP 401 during ${method}: no authentication scheme the client speaks`);
      this.authenticator = new Authenticator(challenge, this.credentials);
      response = await this.send(method, uri, headers);
    }
    if (response.status === 401) {
      const why = this.credentials ? 'credentials refused' : 'the camera needs credentials and none are configured';
      throw new AdapterError('AUTH', `RTSP 401 ${safeReason(response.reason)} during ${method}: ${why}`);
    }
    if (response.status < 200 || response.status > 299) {
      throw new AdapterError('UPSTREAM_STATUS', `RTSP ${response.status} ${safeReason(response.reason)} during ${method}`);
    }
    return response;
  }

  /**
   * Hands the packets of an interleaved channel pair (RTP, RTCP), as SETUP answered, to `receiver`. A channel keeps the
   * track set up first: a camera that answers the audio SETUP with the video's channels does not take the picture away.
   */
  route([rtpChannel, rtcpChannel]: readonly [number, number], receiver: RtpReceiver): void {
    if (!this.channels.has(rtpChannel)) this.channels.set(rtpChannel, (payload) => receiver.onRtp(payload));
    if (!this.channels.has(rtcpChannel)) this.channels.set(rtcpChannel, (payload) => receiver.onRtcp(payload));
  }

  /** Sends RTP or RTCP on an interleaved channel. */
  sendInterleaved(channel: number, payload: Buffer): void {
    if (!this.failed) this.socket.write(frameInterleaved(channel, payload));
  }

  /** Sends a last request without waiting for its answer, then closes (TEARDOWN on the way out). */
  closeWith(method: string, uri: string, headers: ReadonlyArray<readonly [string, string]>): void {
    if (this.failed) return;
    this.failed = true;
    this.closing = true;
    this.socket.end(serializeRequest({ method, uri, headers: this.withAuthorization(method, uri, headers) }, ++this.cseq));
    setTimeout(() => this.socket.destroy(), 200).unref();
    this.rejectPending(new AdapterError('CLOSED', 'RTSP: connection closed'));
  }

  /** Closes at once; safe to call twice. */
  close(): void {
    this.failed = true;
    if (!this.closing) this.socket.destroy();
    this.rejectPending(new AdapterError('CLOSED', 'RTSP: connection closed'));
  }

  private withAuthorization(method: string, uri: string, headers: ReadonlyArray<readonly [string, string]>): Array<readonly [string, string]> {
    const all: Array<readonly [string, string]> = [...headers, ['User-Agent', 'camera-relay']];
    if (this.authenticator) all.push(['Authorization', this.authenticator.authorization(method, uri)]);
    return all;
  }

  private send(method: string, uri: string, headers: ReadonlyArray<readonly [string, string]>): Promise<RtspResponse> {
    if (this.failed) return Promise.reject(new AdapterError('CLOSED', 'RTSP: connection closed'));
    const cseq = ++this.cseq;
    const bytes = serializeRequest({ method, uri, headers: this.withAuthorization(method, uri, headers) }, cseq);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(cseq);
        reject(new AdapterError('TIMEOUT', `RTSP: no reply to ${method} within ${this.replyTimeoutMs} ms`));
      }, this.replyTimeoutMs);
      this.pending.set(cseq, { resolve, reject, timer });
      this.socket.write(bytes);
    });
  }

  private onChunk(chunk: Buffer): void {
    if (this.failed) return;
    try {
      for (const item of this.demuxer.push(chunk)) {
        if (item.kind === 'data') this.channels.get(item.channel)?.(item.payload);
        else if (isResponse(item.message)) this.onResponse(item.message.headers, item.message.startLine, item.message.body);
        else parseRequestLine(item.message.startLine); // a camera's own requests need no answer, but must be RTSP
      }
    } catch (error) {
      this.fail(asAdapterError(error, 'RTSP: '));
    }
  }

  private onResponse(headers: RtspHeaders, startLine: string, body: Buffer): void {
    const { status, reason } = parseStatusLine(startLine);
    const cseq = Number(headers.get('CSeq'));
    const waiting = this.pending.get(cseq);
    if (!waiting) return; // a late reply to a request that already timed out
    this.pending.delete(cseq);
    clearTimeout(waiting.timer);
    waiting.resolve({ status, reason, headers, body });
  }

  private fail(error: AdapterError): void {
    if (this.failed) return;
    this.failed = true;
    this.socket.destroy();
    this.rejectPending(error);
    this.events.onFailure(error);
  }

  private rejectPending(error: AdapterError): void {
    for (const waiting of this.pending.values()) {
      clearTimeout(waiting.timer);
      waiting.reject(error);
    }
    this.pending.clear();
  }
}
