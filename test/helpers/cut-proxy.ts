import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';

/** Interleaved RTP/RTCP frames on channels from `fromChannel` on reach the client `delayMs` late (RTSP over TCP). */
export interface ChannelDelay {
  readonly fromChannel: number;
  readonly delayMs: number;
}

/**
 * A TCP proxy on 127.0.0.1 in front of a camera: cut() drops every connection through it, as a network fault would;
 * `jitterMs` delays what the camera sends by a random 0..jitterMs each chunk, in order, as a busy network does;
 * `channelDelay` holds back one RTSP track's interleaved frames, as a camera whose audio encoder is slow sends them.
 * `targetPort` may change: new connections then go to a camera restarted on another port, under the same URL.
 */
export class CutProxy {
  connections = 0;
  private readonly open = new Set<Socket>();

  private constructor(private readonly server: Server, public targetPort: number) {}

  static async start(targetPort: number, jitterMs = 0, random: () => number = Math.random, channelDelay?: ChannelDelay): Promise<CutProxy> {
    const server = createServer();
    const proxy = new CutProxy(server, targetPort);
    server.on('connection', (client) => {
      proxy.connections++;
      const upstream = connect(proxy.targetPort, '127.0.0.1');
      for (const socket of [client, upstream]) {
        proxy.open.add(socket);
        socket.on('error', () => {});
        socket.on('close', () => {
          proxy.open.delete(socket);
          client.destroy();
          upstream.destroy();
        });
      }
      client.pipe(upstream);
      if (channelDelay) delayChannels(upstream, client, channelDelay);
      else if (jitterMs === 0) upstream.pipe(client);
      else {
        let releaseAt = 0;
        upstream.on('data', (chunk: Buffer) => {
          releaseAt = Math.max(releaseAt, Date.now() + random() * jitterMs);
          setTimeout(() => client.destroyed || client.write(chunk), releaseAt - Date.now());
        });
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return proxy;
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  cut(): void {
    for (const socket of this.open) socket.destroy();
  }

  async close(): Promise<void> {
    this.cut();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/** Splits what an RTSP server sends into messages and interleaved frames, and sends the delayed channels' frames late. */
function delayChannels(from: Socket, to: Socket, { fromChannel, delayMs }: ChannelDelay): void {
  let pending = Buffer.alloc(0);
  const send = (bytes: Buffer): void => void (to.destroyed || to.write(bytes));
  from.on('data', (chunk: Buffer) => {
    pending = Buffer.concat([pending, chunk]);
    for (;;) {
      let size: number;
      if (pending[0] === 0x24) {
        if (pending.length < 4) return;
        size = 4 + pending.readUInt16BE(2);
      } else {
        const end = pending.indexOf('\r\n\r\n');
        if (end < 0) return;
        const length = /\r\ncontent-length:\s*(\d+)/i.exec(pending.subarray(0, end).toString('latin1'));
        size = end + 4 + Number(length?.[1] ?? 0);
      }
      if (pending.length < size) return;
      const item = pending.subarray(0, size);
      pending = pending.subarray(size);
      if (item[0] === 0x24 && item[1]! >= fromChannel) setTimeout(() => send(item), delayMs);
      else send(item);
    }
  });
}
