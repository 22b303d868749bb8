import { randomInt } from 'node:crypto';
import dgram from 'node:dgram';
import { performance } from 'node:perf_hooks';

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

/** A pair released this recently is handed out again only when no other is free: late packets of its last stream may still come. */
const REUSE_AFTER_MS = 10_000;

/**
 * Hands out RTP/RTCP port pairs from RTPPortRange: an even RTP port and the next odd one, as RFC 3550 asks. The pair is
 * picked at random among the free ones, so the next publisher's ports cannot be guessed from the last one's; a pair
 * just released is picked last.
 */
export class RtpPortPool {
  private readonly inUse = new Set<number>();
  /** RTP port -> when its pair was released (performance.now), for pairs released within REUSE_AFTER_MS. */
  private readonly released = new Map<number, number>();

  constructor(private readonly range: () => readonly [number, number]) {}

  /** Pairs handed out now. */
  get allocated(): number {
    return this.inUse.size;
  }

  /** Binds a free pair on `address` (udp4 or udp6 by its form). */
  async allocate(address: string): Promise<PortPair | PortFailure> {
    const candidates = this.candidates();
    const family = address.includes(':') ? 'udp6' : 'udp4';
    let attempts = 0;
    for (const rtpPort of candidates) {
      if (attempts >= MAX_BIND_ATTEMPTS) break;
      if (this.inUse.has(rtpPort)) continue; // taken by a concurrent request since the list was made
      attempts++;
      this.inUse.add(rtpPort); // reserved while binding, so a concurrent request skips it
      const rtp = dgram.createSocket(family);
      const rtcp = dgram.createSocket(family);
      if ((await bind(rtp, rtpPort, address)) && (await bind(rtcp, rtpPort + 1, address))) {
        this.released.delete(rtpPort);
        return { rtpPort, rtp, rtcp };
      }
      this.inUse.delete(rtpPort);
      closeQuietly(rtp);
      closeQuietly(rtcp);
    }
    return attempts === 0 ? 'exhausted' : 'unbindable';
  }

  /** The free RTP ports of the range in random order, those released within REUSE_AFTER_MS at the end. */
  private candidates(): number[] {
    const [first, last] = this.range();
    const base = first + (first % 2);
    const pairs = Math.max(0, Math.floor((last - base + 1) / 2));
    const now = performance.now();
    for (const [port, at] of this.released) if (now - at > REUSE_AFTER_MS) this.released.delete(port);
    const fresh: number[] = [];
    const recent: number[] = [];
    for (let index = 0; index < pairs; index++) {
      const rtpPort = base + index * 2;
      if (this.inUse.has(rtpPort)) continue;
      (this.released.has(rtpPort) ? recent : fresh).push(rtpPort);
    }
    return [...shuffle(fresh), ...shuffle(recent)];
  }

  /** Closes a pair's sockets and frees its ports; safe to call twice. */
  release(pair: PortPair): void {
    closeQuietly(pair.rtp);
    closeQuietly(pair.rtcp);
    if (this.inUse.delete(pair.rtpPort)) this.released.set(pair.rtpPort, performance.now());
  }
}

/** Fisher-Yates with the crypto generator, in place. */
function shuffle(ports: number[]): number[] {
  for (let index = ports.length - 1; index > 0; index--) {
    const other = randomInt(index + 1);
    [ports[index], ports[other]] = [ports[other]!, ports[index]!];
  }
  return ports;
}

function closeQuietly(socket: dgram.Socket): void {
  try {
    socket.close();
  } catch {
    // not bound, or closed already
  }
}
