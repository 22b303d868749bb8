import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import type { RemoteInfo } from 'node:dgram';
import type { Logger } from '../../lib/log.ts';
import type { ViewerLimits } from '../core/viewer.ts';
import { RtspConnection, type RtspReply } from './connection.ts';
import { handleRequest } from './methods.ts';
import type { JpegSkipReason } from '../../media/rtp/jpeg-packetizer.ts';
import { RtpStream, type RtpPayloader } from './rtp-stream.ts';
import { TcpDelivery, UdpDelivery } from './reader.ts';
import { ReplayBudgets } from './replay-budget.ts';
import type { RtspSession } from './session.ts';
import { UdpPortPair } from './udp.ts';
import { plainAddress } from '../../lib/address.ts';

/** Why a reader is refused at SETUP: 453 when its stream is full, 503 when the server is. */
export interface RtspRefusal {
  readonly status: 453 | 503;
  readonly reason: string;
}

/** Where the RTSP server listens, its limits, and how it admits readers. */
export interface RtspServerOptions {
  readonly host: string;
  /** 0 picks a free port. */
  readonly port: number;
  /** Server ports for UDP readers; undefined serves TCP-interleaved readers only. */
  readonly udpPortRange: readonly [number, number] | undefined;
  readonly log: Logger;
  /** A session with no request, RTCP or (over TCP) no open connection for this long ends; announced in Session. */
  readonly sessionTimeoutMs?: number;
  /** A connection that sets up no session and sends nothing for this long is closed. */
  readonly idleTimeoutMs?: number;
  readonly maxConnections?: number;
  /** Connections one client address may hold (read at each accept, so a reload applies); 0 or absent: no limit. */
  readonly maxConnectionsPerAddress?: () => number;
  /** Sessions of all clients together (a UDP session outlives its connection while its client's port keeps sending). */
  readonly maxSessions?: number;
  /** Sessions one client address may hold; 0 or absent: no limit. */
  readonly maxSessionsPerAddress?: () => number;
  /** A session that has not played this long after SETUP ends. */
  readonly unplayedTimeoutMs?: number;
  /** Admission, asked at SETUP and at a session's first PLAY (MaxClients of the stream and of the server). */
  readonly admit?: (streamName: string) => RtspRefusal | undefined;
  /** Viewer authorisation, asked at every DESCRIBE, SETUP and PLAY: undefined to go on, else the reply (401, 403, 410). */
  readonly authorize?: (streamName: string, uri: string, authorization: string | undefined, connection: RtspConnection) => Promise<RtspReply | undefined>;
}

/** Counters of one stream's RTSP readers, for /stat.json and /metrics. */
export interface RtspStreamStats {
  readonly readers: { readonly tcp: number; readonly udp: number };
  readonly bytesOut: number;
  readonly drops: number;
  readonly framesOut: number;
  readonly readersServed: number;
  /** Camera JPEGs that RTP/JPEG cannot carry, skipped. */
  readonly skippedFrames: number;
}

/** A stream offered over RTSP at rtsp://HOST:PORT/NAME. */
export class RtspMount {
  readonly stream: RtpStream;
  /** The camera's sound as a second track (trackID=1), on the picture's timeline; undefined for a stream without sound. */
  readonly audio: RtpStream | undefined;
  readonly sessions = new Set<RtspSession>();
  /** What each client address may be sent of the kept frames, at a multiple of the stream's own rate. */
  readonly replays: ReplayBudgets;
  closedBytes = 0;
  closedDrops = 0;
  readersServed = 0;
  skippedFrames = 0;

  constructor(
    readonly name: string,
    source: RtpPayloader,
    readonly limits: ViewerLimits,
    log: Logger,
    audio?: RtpPayloader,
  ) {
    const onError = (error: Error): void => log.error(`stream ${name}: a reader failed: ${error.stack ?? error.message}`);
    this.stream = new RtpStream(name, source, onError);
    // Sound keeps its recent frames (about 10 s of AAC at 48 kHz) so a reader starts it beside the picture's kept group.
    this.audio = audio && new RtpStream(name, audio, onError, { clock: this.stream, recentFrames: 500, runAlways: true });
    this.replays = new ReplayBudgets((now) => this.stream.rate.perSecond(now));
  }
}

const SWEEP_INTERVAL_MS = 1000;
const SENDER_REPORT_INTERVAL_MS = 5000;

/**
 * The relay's RTSP edge (RFC 2326): serves every mounted stream to RTSP readers over TCP (interleaved) and UDP.
 * It knows nothing of cameras or encoders: a mount is a name, a media source and the per-reader limits.
 */
export class RtspServer {
  readonly mounts = new Map<string, RtspMount>();
  readonly sessions = new Map<string, RtspSession>();
  readonly connections = new Set<RtspConnection>();
  /** Open connections and sessions by client address, for the per-address limits. */
  readonly connectionsFrom = new Map<string, number>();
  readonly sessionsFrom = new Map<string, Set<RtspSession>>();
  /** Connections closed at accept because their address held its share. */
  refusedConnections = 0;
  readonly sessionTimeoutMs: number;
  private sweepTimer: NodeJS.Timeout | undefined;
  private lastReportAt = 0;

  private constructor(
    readonly options: RtspServerOptions,
    private readonly server: Server,
    readonly udp: UdpPortPair | undefined,
    readonly port: number,
  ) {
    this.sessionTimeoutMs = options.sessionTimeoutMs ?? 60_000;
  }

  /** Listens on host:port, and binds the UDP port pair when a range is set (a failed bind leaves UDP off, logged). */
  static async start(options: RtspServerOptions): Promise<RtspServer> {
    const holder: { server?: RtspServer } = {};
    let udp: UdpPortPair | undefined;
    if (options.udpPortRange) {
      try {
        udp = await UdpPortPair.bind(options.host, options.udpPortRange, (from, rtcp) => holder.server?.onUdpPacket(from, rtcp));
      } catch (error) {
        options.log.warn(`RTSP over UDP is off: ${(error as Error).message}`);
      }
    }
    const server = createServer((socket) => holder.server?.accept(socket));
    server.maxConnections = options.maxConnections ?? 4096;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port, options.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    const port = (server.address() as AddressInfo).port;
    const rtsp = (holder.server = new RtspServer(options, server, udp, port));
    rtsp.sweepTimer = setInterval(() => rtsp.sweep(Date.now()), SWEEP_INTERVAL_MS);
    rtsp.sweepTimer.unref();
    const udpText = udp ? `, RTP over UDP from ports ${udp.ports[0]}-${udp.ports[1]}` : '';
    options.log.info(`serving RTSP on rtsp://${options.host}:${port}/${udpText}`);
    return rtsp;
  }

  /** Offers a stream; a mount of the same name is replaced (its sessions end). */
  mount(name: string, source: RtpPayloader, limits: ViewerLimits, audio?: RtpPayloader): RtspMount {
    this.unmount(name);
    const mount = new RtspMount(name, source, limits, this.options.log, audio);
    this.mounts.set(name, mount);
    return mount;
  }

  /** Withdraws a stream and ends its sessions. */
  unmount(name: string): void {
    const mount = this.mounts.get(name);
    if (!mount) return;
    this.mounts.delete(name);
    for (const session of [...mount.sessions]) session.close();
    mount.stream.stop();
    mount.audio?.stop();
  }

  /** Counts a JPEG of `name`'s camera that RTP/JPEG could not carry. */
  countSkipped(name: string, reason: JpegSkipReason): void {
    const mount = this.mounts.get(name);
    if (!mount) return;
    if (mount.skippedFrames++ === 0) this.options.log.warn(`stream ${name}: a camera JPEG cannot go over RTSP (${reason}); such frames are skipped and counted`);
  }

  /** RTSP readers (sessions admitted at PLAY) of one stream, or of all streams. */
  readerCount(name?: string): number {
    const mounts = name !== undefined ? [this.mounts.get(name)] : this.mounts.values();
    let count = 0;
    for (const mount of mounts) for (const session of mount?.sessions ?? []) if (session.admitted) count++;
    return count;
  }

  /** Up to `max` sessions reading stream `name`, oldest first. */
  readers(name: string, max: number): RtspSession[] {
    const out: RtspSession[] = [];
    for (const session of this.mounts.get(name)?.sessions ?? []) {
      if (out.length >= max) break;
      if (session.admitted) out.push(session);
    }
    return out;
  }

  stats(name: string): RtspStreamStats | undefined {
    const mount = this.mounts.get(name);
    if (!mount) return undefined;
    const readers = { tcp: 0, udp: 0 };
    let bytesOut = mount.closedBytes;
    let drops = mount.closedDrops;
    for (const session of mount.sessions) {
      if (session.admitted) readers[session.transport]++;
      bytesOut += session.bytesSent;
      drops += session.reader.delivery.drops;
    }
    return { readers, bytesOut, drops, framesOut: mount.stream.framesOut, readersServed: mount.readersServed, skippedFrames: mount.skippedFrames };
  }

  /** Registers a session set up on a connection of this server. */
  addSession(mount: RtspMount, session: RtspSession): void {
    this.sessions.set(session.id, session);
    mount.sessions.add(session);
    mount.readersServed++;
    session.connection.sessions.add(session);
    const fromAddress = this.sessionsFrom.get(session.address) ?? new Set();
    this.sessionsFrom.set(session.address, fromAddress.add(session));
    const { delivery } = session.reader;
    this.options.log.info(`RTSP reader ${session.id} of ${mount.name} from ${session.connection.remoteAddress} over ${delivery.transport}`);
    session.onClose(() => {
      this.sessions.delete(session.id);
      mount.sessions.delete(session);
      session.connection.sessions.delete(session);
      fromAddress.delete(session);
      if (fromAddress.size === 0 && this.sessionsFrom.get(session.address) === fromAddress) this.sessionsFrom.delete(session.address);
      mount.closedBytes += session.bytesSent;
      mount.closedDrops += delivery.drops;
      this.options.log.info(`RTSP reader ${session.id} of ${mount.name} left after ${Math.round((Date.now() - session.since) / 1000)} s, ${session.bytesSent} bytes`);
    });
  }

  /** Stops listening, ends every session and connection. Safe to call twice. */
  async close(): Promise<void> {
    clearInterval(this.sweepTimer);
    for (const name of [...this.mounts.keys()]) this.unmount(name);
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const connection of this.connections) connection.close();
    this.udp?.close();
    await closed;
  }

  private accept(socket: Socket): void {
    const limit = this.options.maxConnectionsPerAddress?.() ?? 0;
    const address = plainAddress(socket.remoteAddress);
    const held = this.connectionsFrom.get(address) ?? 0;
    if (limit > 0 && held >= limit) {
      if (this.refusedConnections++ % 1000 === 0) this.options.log.warn(`RTSP connections from ${address} refused: it holds ${held} (${this.refusedConnections} refused so far)`);
      socket.destroy();
      return;
    }
    this.connectionsFrom.set(address, held + 1);
    const connection = new RtspConnection(socket, (conn, request) => handleRequest(this, conn, request), (conn, channel) => this.onInterleaved(conn, channel), this.options.log);
    this.connections.add(connection);
    socket.setTimeout(this.options.idleTimeoutMs ?? 10_000, () => {
      // Sessions have their own timeout; a connection without one that has said nothing is dropped.
      if (connection.sessions.size === 0) connection.close();
    });
    socket.once('close', () => {
      this.connections.delete(connection);
      const left = (this.connectionsFrom.get(address) ?? 1) - 1;
      if (left > 0) this.connectionsFrom.set(address, left);
      else this.connectionsFrom.delete(address);
      // A UDP session outlives its connection only while it plays and its client's port keeps asking for RTP.
      for (const session of [...connection.sessions]) if (!this.outlivesConnection(session)) session.close();
    });
  }

  /** RTCP from an interleaved reader keeps its session alive; data on other channels is counted and ignored. */
  private onInterleaved(connection: RtspConnection, channel: number): void {
    for (const session of connection.sessions) {
      for (const reader of session.readers) {
        const delivery = reader.delivery;
        if (delivery instanceof TcpDelivery && delivery.channels[1] === channel) return session.touch();
      }
    }
    connection.unexpectedData++;
  }

  private onUdpPacket(from: RemoteInfo, rtcp: boolean): void {
    for (const session of this.sessions.values()) {
      for (const reader of session.readers) {
        const delivery = reader.delivery;
        if (delivery instanceof UdpDelivery && delivery.address === from.address && delivery.clientPorts[rtcp ? 1 : 0] === from.port) {
          session.touch();
          delivery.hear(Date.now());
        }
      }
    }
  }

  /** A UDP session that has played and whose client's port gives consent lives on without its connection. */
  private outlivesConnection(session: RtspSession): boolean {
    return session.admitted && session.reader.delivery instanceof UdpDelivery && session.reader.delivery.ready;
  }

  private sweep(now: number): void {
    const report = now - this.lastReportAt >= SENDER_REPORT_INTERVAL_MS;
    if (report) this.lastReportAt = now;
    for (const mount of this.mounts.values()) mount.replays.sweep(now);
    const unplayedTimeoutMs = this.options.unplayedTimeoutMs ?? 10_000;
    for (const session of [...this.sessions.values()]) {
      const { reader } = session;
      if (!session.admitted && now - session.since > unplayedTimeoutMs) {
        this.options.log.info(`RTSP session ${session.id} never played`);
        session.close();
        continue;
      }
      if (session.connection.isClosed && !this.outlivesConnection(session)) {
        this.options.log.info(`RTSP session ${session.id}: its client's port stopped asking for RTP after its connection closed`);
        session.close();
        continue;
      }
      // An interleaved reader that is playing is alive as long as its connection is: many clients send no keep-alive.
      const heldByConnection = session.transport === 'tcp' && reader.isPlaying && !session.connection.isClosed;
      if (!heldByConnection && now - session.lastActivity > this.sessionTimeoutMs) {
        this.options.log.info(`RTSP session ${session.id} timed out`);
        session.close();
        continue;
      }
      if (reader.delivery instanceof TcpDelivery) reader.delivery.viewer.checkStalled(now);
      if (report) for (const each of session.readers) each.sendReport(now);
    }
  }
}
