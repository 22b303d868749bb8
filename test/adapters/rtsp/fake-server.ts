import net from 'node:net';
import { InterleavedDemuxer, frameInterleaved } from '../../../media/rtsp/interleaved.ts';
import { parseRequestLine, serializeResponse, type RtspHeaders } from '../../../media/rtsp/message.ts';
import { nal, rtpBytes } from './rtp-builder.ts';

/** A request as the fake server saw it. */
export interface SeenRequest {
  readonly method: string;
  readonly uri: string;
  readonly headers: RtspHeaders;
}

/** What a handler may answer: a status with headers and body, raw bytes, or nothing at all. */
export type Reply = { status: number; reason?: string; headers?: Array<[string, string]>; body?: string } | Buffer | 'silence';

/** Decides the reply to one request; returning undefined falls back to the well-behaved default. */
export type Handler = (request: SeenRequest, connection: FakeConnection) => Reply | undefined;

/** An SDP for one H.264 video track at payload type 96, as many cameras send it. */
export const H264_SDP = 'v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\ns=fake\r\nt=0 0\r\na=control:*\r\nm=audio 0 RTP/AVP 0\r\na=control:trackID=9\r\nm=video 0 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\na=fmtp:96 packetization-mode=1;sprop-parameter-sets=Z0IAHpWoLQSZ,aM48gA==\r\na=control:trackID=1\r\n';

/** One client connection to the fake server, which can push interleaved frames to it. */
export class FakeConnection {
  private sequence = 0;
  private timestamp = 0;

  constructor(readonly socket: net.Socket) {}

  /** Sends raw bytes. */
  write(bytes: Buffer): void {
    if (!this.socket.destroyed) this.socket.write(bytes);
  }

  /** Sends one H.264 access unit as a single-NAL RTP packet on `channel`, an IDR every tenth. */
  sendAccessUnit(channel = 0, size = 200): void {
    const type = this.sequence % 10 === 0 ? 5 : 1;
    const units = type === 5 ? [nal(7, 8), nal(8, 4), nal(5, size)] : [nal(1, size)];
    units.forEach((unit, i) => {
      const packet = rtpBytes({ payloadType: 96, sequence: this.sequence++, timestamp: this.timestamp, marker: i === units.length - 1 }, unit);
      this.write(frameInterleaved(channel, packet));
    });
    this.timestamp += 9000;
  }
}

/** An in-process RTSP server that behaves well unless a handler says otherwise: the peer for fault tests. */
export class FakeRtspServer {
  readonly requests: SeenRequest[] = [];
  readonly connections: FakeConnection[] = [];
  private readonly server = net.createServer((socket) => this.accept(socket));
  /** Access units per second sent once PLAY is answered; 0 sends none. */
  rate = 20;
  private readonly timers = new Set<NodeJS.Timeout>();

  constructor(private readonly handler: Handler = () => undefined) {}

  async listen(): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
  }

  get url(): string {
    const address = this.server.address() as net.AddressInfo;
    return `rtsp://127.0.0.1:${address.port}/live`;
  }

  methods(): string[] {
    return this.requests.map((request) => request.method);
  }

  async close(): Promise<void> {
    for (const timer of this.timers) clearInterval(timer);
    for (const connection of this.connections) connection.socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(socket: net.Socket): void {
    const connection = new FakeConnection(socket);
    this.connections.push(connection);
    const demuxer = new InterleavedDemuxer();
    socket.on('error', () => {});
    socket.on('data', (chunk: Buffer) => {
      let items;
      try {
        items = demuxer.push(chunk);
      } catch {
        socket.destroy();
        return;
      }
      for (const item of items) {
        if (item.kind !== 'message') continue;
        const { method, uri } = parseRequestLine(item.message.startLine);
        const request = { method, uri, headers: item.message.headers };
        this.requests.push(request);
        this.answer(request, connection);
      }
    });
  }

  private answer(request: SeenRequest, connection: FakeConnection): void {
    const reply = this.handler(request, connection) ?? this.defaultReply(request);
    if (reply === 'silence') return;
    if (Buffer.isBuffer(reply)) return connection.write(reply);
    const headers: Array<[string, string]> = [['CSeq', request.headers.get('CSeq') ?? '0'], ...(reply.headers ?? [])];
    connection.write(serializeResponse(reply.status, reply.reason ?? 'OK', headers, Buffer.from(reply.body ?? '')));
    if (request.method === 'PLAY' && reply.status === 200 && this.rate > 0) {
      const timer = setInterval(() => connection.sendAccessUnit(), 1000 / this.rate);
      this.timers.add(timer);
      connection.socket.on('close', () => clearInterval(timer));
    }
  }

  private defaultReply(request: SeenRequest): Reply {
    switch (request.method) {
      case 'OPTIONS':
        return { status: 200, headers: [['Public', 'OPTIONS, DESCRIBE, SETUP, PLAY, GET_PARAMETER, TEARDOWN']] };
      case 'DESCRIBE':
        return { status: 200, headers: [['Content-Type', 'application/sdp'], ['Content-Base', `${this.url}/`]], body: H264_SDP };
      case 'SETUP':
        return { status: 200, headers: [['Transport', 'RTP/AVP/TCP;unicast;interleaved=0-1'], ['Session', '12345678;timeout=60']] };
      default:
        return { status: 200 };
    }
  }
}
