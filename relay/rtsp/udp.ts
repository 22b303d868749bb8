import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';

/** The server's RTP and RTCP sockets for UDP readers: one even/odd port pair from the configured range. */
export class UdpPortPair {
  private constructor(
    readonly rtp: Socket,
    readonly rtcp: Socket,
    readonly ports: readonly [number, number],
  ) {}

  /**
   * Binds the first free even/odd pair in [first, last] on `host`. Rejects when none is free. `onPacket` hears what
   * readers send (RTCP receiver reports, NAT openers), which keeps their sessions alive.
   */
  static async bind(host: string, range: readonly [number, number], onPacket: (from: RemoteInfo, rtcp: boolean) => void): Promise<UdpPortPair> {
    const family = host.includes(':') ? 'udp6' : 'udp4';
    for (let port = range[0] + (range[0] % 2); port + 1 <= range[1]; port += 2) {
      const rtp = await bindSocket(family, host, port);
      if (!rtp) continue;
      const rtcp = await bindSocket(family, host, port + 1);
      if (!rtcp) {
        rtp.close();
        continue;
      }
      for (const [socket, isRtcp] of [[rtp, false], [rtcp, true]] as const) {
        socket.on('message', (_message, from) => onPacket(from, isRtcp));
        // Errors of one send (a reader's port closed) are not the server's: sends go on for the others.
        socket.on('error', () => {});
      }
      return new UdpPortPair(rtp, rtcp, [port, port + 1]);
    }
    throw new Error(`no free UDP port pair in ${range[0]}-${range[1]} on ${host}`);
  }

  close(): void {
    this.rtp.close();
    this.rtcp.close();
  }
}

function bindSocket(family: 'udp4' | 'udp6', host: string, port: number): Promise<Socket | undefined> {
  return new Promise((resolve) => {
    const socket = createSocket({ type: family, reuseAddr: false });
    socket.once('error', () => {
      socket.close();
      resolve(undefined);
    });
    socket.bind(port, host, () => {
      socket.removeAllListeners('error');
      resolve(socket);
    });
  });
}
