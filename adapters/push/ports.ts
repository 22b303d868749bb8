import dgram from 'node:dgram';

/** A bound RTP socket (even port) and RTCP socket (the next port), owned by one push session. */
export interface PortPair {
  readonly rtpPort: number;
  readonly rtp: dgram.Socket;
  readonly rtcp: dgram.Socket;
}

/** Why no pair could be had: every pair is handed out, or none of the free ones could be bound. */
export type PortFailure = 'exhausted' | 'unbindable';

/** Bind attempts per request: a range full of ports held by other programs must not stall the gateway. */
const MAX_BIND_ATTEMPTS = 32;

function bind(socket: dgram.Socket, port: number, address: string): Promise<boolean> {
  return new Promise((resolve) => {
    const onError = (): void => resolve(false);
    socket.once('error', onError);
    socket.bind({ port, address, exclusive: true }, () => {
      socket.off('error', onError);
      resolve(true);
    });
  });
}

/**
 * Hands out RTP/RTCP port pairs from RTPPortRange: an even RTP port and the next odd one, as RFC 3550 asks. A cursor
 * moves on past the last pair handed out, so a pair just released is not given at once to the next publisher (late
 * packets of the previous one would land in the new stream).
 */
export class RtpPortPool {
  private readonly inUse = new Set<number>();
  private cursor = 0;

  constructor(private readonly range: () => readonly [number, number]) {}

  /** Pairs handed out now. */
  get allocated(): number {
    return this.inUse.size;
  }

  /** Binds a free pair on `address` (udp4 or udp6 by its form). */
  async allocate(address: string): Promise<PortPair | PortFailure> {
    const [first, last] = this.range();
    const base = first + (first % 2);
    const pairs = Math.floor((last - base + 1) / 2);
    const family = address.includes(':') ? 'udp6' : 'udp4';
    let attempts = 0;
    for (let step = 0; step < pairs && attempts < MAX_BIND_ATTEMPTS; step++) {
      const index = (this.cursor + step) % pairs;
      const rtpPort = base + index * 2;
      if (this.inUse.has(rtpPort)) continue;
      attempts++;
      this.inUse.add(rtpPort); // reserved while binding, so a concurrent request skips it
      const rtp = dgram.createSocket(family);
      const rtcp = dgram.createSocket(family);
      if ((await bind(rtp, rtpPort, address)) && (await bind(rtcp, rtpPort + 1, address))) {
        this.cursor = (index + 1) % pairs;
        return { rtpPort, rtp, rtcp };
      }
      this.inUse.delete(rtpPort);
      closeQuietly(rtp);
      closeQuietly(rtcp);
    }
    return attempts === 0 ? 'exhausted' : 'unbindable';
  }

  /** Closes a pair's sockets and frees its ports; safe to call twice. */
  release(pair: PortPair): void {
    closeQuietly(pair.rtp);
    closeQuietly(pair.rtcp);
    this.inUse.delete(pair.rtpPort);
  }
}

function closeQuietly(socket: dgram.Socket): void {
  try {
    socket.close();
  } catch {
    // not bound, or closed already
  }
}
