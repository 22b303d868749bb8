import type { ConsumerEdge, EdgeConsumer, EdgeStreamStats } from '../core/edge.ts';
import type { Logger } from '../../lib/log.ts';
import { viewerLimits, type StreamOutput } from '../outputs/output.ts';
import type { Relay } from '../core/relay.ts';
import type { RtpPayloader } from './rtp-stream.ts';
import { RtspServer, type RtspRefusal } from './server.ts';
import { h264RtpPayloader, jpegRtpPayloader, type JpegFeed, type JpegSkipCounter } from './rtp-payloaders.ts';
import { authorizeRtspReader } from '../auth/rtsp.ts';
import { plainAddress } from '../../lib/address.ts';

/**
 * The one place that knows where a stream's frames come from for RTSP: the stream's shared encoder (flv, hls: its
 * H.264, encoded once for every protocol), or its camera's JPEG view as RTP/JPEG can carry it (mpjpeg: the camera's
 * JPEGs, re-encoded once where they do not fit, or an H.264 camera decoded to JPEG once for MJPEG and RTSP alike).
 * Other formats are not served.
 */
export function rtspPayloaderOf(output: StreamOutput, jpegView: () => JpegFeed, onSkip: JpegSkipCounter): RtpPayloader | undefined {
  const { format } = output.config;
  if ((format === 'flv' || format === 'hls') && output.video) return h264RtpPayloader(output.video);
  if (format === 'mpjpeg') return jpegRtpPayloader(jpegView(), output.config.videoFrameRate, onSkip);
  return undefined;
}

/**
 * Connections and sessions one client address may hold over RTSP when MaxClientsPerIP is not set: one address cannot
 * take the whole server (4096 connections), yet a recorder pulling many streams from one host is still served.
 */
export const RTSP_DEFAULT_PER_ADDRESS = 256;

/**
 * The relay's RTSP edge: runs the RTSP server when RTSPPort is set, offers every video Stream with `RTSP yes` at
 * rtsp://HOST:RTSPPort/NAME, admits readers by the relay's MaxClients and MaxBandwidth (at PLAY) and MaxClientsPerIP,
 * and follows reloads.
 */
export class RtspEdge implements ConsumerEdge {
  readonly protocol = 'rtsp';
  private readonly mounted = new Map<string, StreamOutput>();

  private constructor(
    private readonly relay: Relay,
    readonly server: RtspServer,
  ) {}

  /** Starts the server for a relay whose config sets RTSPPort; undefined when RTSP is off. */
  static async start(relay: Relay, log: Logger): Promise<RtspEdge | undefined> {
    const { config } = relay;
    if (config.rtspPort === 0) return undefined;
    const holder: { edge?: RtspEdge } = {};
    const server = await RtspServer.start({
      host: config.rtspBindAddress,
      port: config.rtspPort,
      udpPortRange: config.rtspUdpPortRange,
      sessionTimeoutMs: config.rtspSessionTimeoutMs,
      // MaxClientsPerIP bounds an address's RTSP connections and sessions as it bounds its HTTP connections.
      maxConnectionsPerAddress: () => relay.config.security.maxClientsPerIp || RTSP_DEFAULT_PER_ADDRESS,
      maxSessionsPerAddress: () => relay.config.security.maxClientsPerIp || RTSP_DEFAULT_PER_ADDRESS,
      log: log.child('rtsp'),
      admit: (name) => holder.edge?.admit(name),
      authorize: (name, uri, authorization, connection) => authorizeRtspReader(relay, name, uri, authorization, connection),
    });
    const edge = (holder.edge = new RtspEdge(relay, server));
    relay.edges.add(edge);
    edge.sync();
    return edge;
  }

  get port(): number {
    return this.server.port;
  }

  /** Mounts what the relay serves now: new streams are offered, removed or replaced ones end their sessions. */
  sync(): void {
    for (const [name, output] of this.mounted) {
      if (this.relay.outputs.get(name) === output && output.config.rtsp) continue;
      this.server.unmount(name);
      this.mounted.delete(name);
    }
    for (const [name, output] of this.relay.outputs) {
      if (this.mounted.has(name) || !output.config.rtsp) continue;
      const source = rtspPayloaderOf(output, () => this.relay.jpegViewFor(output.feed).forRtp, (reason) => this.server.countSkipped(name, reason));
      if (!source) continue;
      this.server.mount(name, source, viewerLimits(output.config));
      this.mounted.set(name, output);
    }
  }

  streamStats(stream: string): EdgeStreamStats | undefined {
    const stats = this.server.stats(stream);
    if (!stats) return undefined;
    const { readers, bytesOut, drops, framesOut, readersServed, skippedFrames } = stats;
    return { viewers: readers.tcp + readers.udp, bytesOut, tcp: readers.tcp, udp: readers.udp, drops, framesOut, readersServed, skippedFrames };
  }

  consumers(stream: string, max: number): EdgeConsumer[] {
    return this.server.readers(stream, max).map((session) => ({
      handle: session,
      address: plainAddress(session.connection.remoteAddress),
      since: session.since,
      bytesSent: session.reader.delivery.bytesSent,
      drops: session.reader.delivery.drops,
      protocol: `rtsp/${session.transport}`,
    }));
  }

  /** Stops the server and its sessions. Safe to call twice. */
  async close(): Promise<void> {
    this.relay.edges.delete(this);
    this.mounted.clear();
    await this.server.close();
  }

  private admit(name: string): RtspRefusal | undefined {
    const output = this.relay.outputs.get(name);
    const refusal = output && this.relay.admission.check(output);
    if (!refusal) return undefined;
    return { status: refusal.scope === 'server' ? 503 : 453, reason: refusal.reason };
  }
}
