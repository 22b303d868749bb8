import { spawn, type ChildProcess } from 'node:child_process';
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { connect, type Socket } from 'node:net';
import { JpegSplitter } from '../../../media/jpeg/splitter.ts';
import { InterleavedDemuxer } from '../../../media/rtsp/interleaved.ts';
import { parseStatusLine, type RtspHeaders } from '../../../media/rtsp/message.ts';
import { parseRtpPacket, type RtpPacket } from '../../../media/rtp/rtp.ts';
import { jpegUnit, type JpegUnit } from '../../../media/types.ts';
import { silentLogger, type Logger } from '../../../lib/log.ts';
import type { H264Source } from '../../../media/types.ts';
import { RtspServer, type RtspServerOptions } from '../../../relay/rtsp/server.ts';
import type { JpegFeed } from '../../../relay/rtsp/rtp-payloaders.ts';

/** Per-reader limits as a Stream's defaults set them. */
export const LIMITS = { budgetBytes: 1024 * 1024, hardLimitBytes: 8 * 1024 * 1024, writeTimeoutMs: 20_000 };

/** Counts holds taken by acquire() and not yet released (each release counts once). */
function holdCounter(): { hold: () => () => void; count: () => number } {
  let holders = 0;
  return {
    count: () => holders,
    hold() {
      holders++;
      let released = false;
      return () => {
        if (!released) holders--;
        released = true;
      };
    },
  };
}

/** A stand-in for a camera's Feed: ffmpeg's JPEGs (standard Huffman tables, as cameras send) with a demand count. */
export interface FakeJpegFeed extends JpegFeed {
  readonly holders: number;
  readonly process: ChildProcess;
  stop(): void;
}

export function startJpegFeed(options: { size?: string; rate?: number; pixFmt?: string; huffman?: string } = {}): FakeJpegFeed {
  const { size = '320x240', rate = 10, pixFmt = 'yuvj420p', huffman = 'default' } = options;
  const child = spawn('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-re', '-f', 'lavfi', '-i', `testsrc=size=${size}:rate=${rate}`,
    '-c:v', 'mjpeg', '-huffman', huffman, '-q:v', '5', '-pix_fmt', pixFmt, '-f', 'mjpeg', 'pipe:1'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const splitter = new JpegSplitter(4 << 20);
  const listeners = new Set<(frame: JpegUnit) => void>();
  let latest: JpegUnit | undefined;
  const { hold, count } = holdCounter();
  child.stdout!.on('data', (chunk: Buffer) => {
    for (const data of splitter.push(chunk)) {
      latest = jpegUnit(data, performance.now());
      for (const listener of listeners) listener(latest);
    }
  });
  return {
    process: child,
    get holders() {
      return count();
    },
    get latestFrame() {
      return latest;
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    acquire: () => hold(),
    stop: () => child.kill('SIGKILL'),
  };
}

/** Wraps an encoded source to count who holds it (acquire/release), as the relay's encoder demand would. */
export function countingSource(source: H264Source): H264Source & { readonly holders: number } {
  const { hold, count } = holdCounter();
  return {
    id: source.id,
    get track() {
      return source.track;
    },
    get groupOfPictures() {
      return source.groupOfPictures;
    },
    subscribe: (listener) => source.subscribe(listener),
    get holders() {
      return count();
    },
    acquire: () => hold(),
  };
}

/** An RTSP server on 127.0.0.1, a free TCP port and a UDP pair from a high range. */
export function startServer(options: Partial<RtspServerOptions> & { log?: Logger } = {}): Promise<RtspServer> {
  return RtspServer.start({ host: '127.0.0.1', port: 0, udpPortRange: [42000, 42999], log: silentLogger, ...options });
}

export interface RtspResponse {
  readonly status: number;
  readonly headers: RtspHeaders;
  readonly body: Buffer;
  /** How many packets had arrived before this reply: the ones after it are `packets.slice(packetsBefore)`. */
  readonly packetsBefore: number;
}

/** One interleaved packet as the test client saw it. */
export interface ReceivedPacket {
  readonly channel: number;
  readonly at: number;
  readonly rtp: RtpPacket | undefined;
  readonly bytes: Buffer;
}

/** A scripted RTSP client over TCP: sends requests, reads replies and interleaved packets in order. */
export class TestRtspClient {
  readonly packets: ReceivedPacket[] = [];
  private readonly demuxer = new InterleavedDemuxer();
  private readonly replies: RtspResponse[] = [];
  private waiters: Array<() => void> = [];
  private cseq = 0;
  closed = false;

  private constructor(readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      for (const item of this.demuxer.push(chunk)) {
        if (item.kind === 'data') {
          let rtp: RtpPacket | undefined;
          try {
            rtp = item.channel % 2 === 0 ? parseRtpPacket(item.payload) : undefined;
          } catch {
            rtp = undefined;
          }
          this.packets.push({ channel: item.channel, at: Date.now(), rtp, bytes: item.payload });
        } else {
          const { status } = parseStatusLine(item.message.startLine);
          this.replies.push({ status, headers: item.message.headers, body: item.message.body, packetsBefore: this.packets.length });
        }
      }
      this.wake();
    });
    socket.on('close', () => {
      this.closed = true;
      this.wake();
    });
    socket.on('error', () => {});
  }

  /** Connects to 127.0.0.1:port, from `localAddress` (another loopback address stands for another client). */
  static connect(port: number, localAddress?: string): Promise<TestRtspClient> {
    return new Promise((resolve, reject) => {
      const socket = connect({ port, host: '127.0.0.1', ...(localAddress ? { localAddress } : {}) }, () => resolve(new TestRtspClient(socket)));
      socket.once('error', reject);
    });
  }

  /** Sends one request and resolves with its reply. */
  async request(method: string, uri: string, headers: Record<string, string> = {}): Promise<RtspResponse> {
    const lines = [`${method} ${uri} RTSP/1.0`, `CSeq: ${++this.cseq}`, ...Object.entries(headers).map(([name, value]) => `${name}: ${value}`)];
    this.socket.write(`${lines.join('\r\n')}\r\n\r\n`);
    return this.nextReply();
  }

  /** Resolves with the next reply (for raw writes). */
  async nextReply(timeoutMs = 15_000): Promise<RtspResponse> {
    await this.until(() => this.replies.length > 0 || this.closed, timeoutMs, 'a reply');
    const reply = this.replies.shift();
    if (!reply) throw new Error('connection closed before a reply');
    return reply;
  }

  /** Waits until `condition` holds, checking on every arrival. */
  until(condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
    return new Promise((resolve, reject) => {
      const check = (): void => {
        if (condition()) {
          clearTimeout(timer);
          this.waiters = this.waiters.filter((waiter) => waiter !== check);
          resolve();
        }
      };
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((waiter) => waiter !== check);
        reject(new Error(`timed out waiting for ${what}`));
      }, timeoutMs);
      this.waiters.push(check);
      check();
    });
  }

  close(): void {
    this.socket.destroy();
  }

  private wake(): void {
    for (const waiter of [...this.waiters]) waiter();
  }
}

/** DESCRIBE, SETUP (TCP interleaved) and PLAY: returns the client and the session id. */
export async function playOverTcp(port: number, name: string): Promise<{ client: TestRtspClient; session: string; play: RtspResponse }> {
  const client = await TestRtspClient.connect(port);
  const url = `rtsp://127.0.0.1:${port}/${name}`;
  const describe = await client.request('DESCRIBE', url);
  if (describe.status !== 200) throw new Error(`DESCRIBE answered ${describe.status}`);
  const setup = await client.request('SETUP', `${url}/trackID=0`, { Transport: 'RTP/AVP/TCP;unicast;interleaved=0-1' });
  if (setup.status !== 200) throw new Error(`SETUP answered ${setup.status}`);
  const session = setup.headers.get('Session')!.split(';')[0]!;
  const play = await client.request('PLAY', url, { Session: session });
  return { client, session, play };
}

/** A UDP port on 127.0.0.1 that counts what reaches it; it sends nothing unless told to. */
export async function countingUdpPort(): Promise<{ socket: UdpSocket; port: number; bytes: () => number; packets: () => number }> {
  const socket = createSocket('udp4');
  let bytes = 0;
  let packets = 0;
  socket.on('message', (message) => {
    bytes += message.length;
    packets++;
  });
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  return { socket, port: socket.address().port, bytes: () => bytes, packets: () => packets };
}

/** Runs a gst-launch pipeline from GStreamer's rtspsrc for `ms`, and counts the decoded frames its fakesink saw. */
export function decodedFrames(pipeline: string[], ms: number): Promise<{ frames: number; errors: string[] }> {
  return new Promise((resolve) => {
    const child = spawn('gst-launch-1.0', ['-v', ...pipeline, '!', 'fakesink', 'silent=false'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let frames = 0;
    const errors: string[] = [];
    let rest = '';
    const read = (chunk: Buffer): void => {
      const lines = (rest + chunk.toString()).split('\n');
      rest = lines.pop() ?? '';
      for (const line of lines) {
        if (/last-message = chain .*\(115200 bytes/.test(line)) frames++; // one 320x240 I420 picture
        if (/^ERROR/.test(line)) errors.push(line);
      }
    };
    child.stdout.on('data', read);
    child.stderr.on('data', read);
    const timer = setTimeout(() => child.kill('SIGKILL'), ms);
    child.on('close', () => {
      clearTimeout(timer);
      resolve({ frames, errors });
    });
  });
}
