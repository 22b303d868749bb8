import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';

/**
 * A TCP proxy on 127.0.0.1 in front of a camera: cut() drops every connection through it, as a network fault would;
 * `jitterMs` delays what the camera sends by a random 0..jitterMs each chunk, in order, as a busy network does.
 */
export class CutProxy {
  connections = 0;
  private readonly open = new Set<Socket>();

  private constructor(private readonly server: Server) {}

  static async start(targetPort: number, jitterMs = 0, random: () => number = Math.random): Promise<CutProxy> {
    const server = createServer();
    const proxy = new CutProxy(server);
    server.on('connection', (client) => {
      proxy.connections++;
      const upstream = connect(targetPort, '127.0.0.1');
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
      if (jitterMs === 0) upstream.pipe(client);
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
