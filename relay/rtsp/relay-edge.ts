import type { EdgeConsumer, EdgeStreamStats } from '../core/edge.ts';
import { viewerLimits, type StreamOutput } from '../outputs/output.ts';
import type { CameraMedia, OutputProtocol, ProtocolEnv, ProtocolMount, ProtocolServer } from '../outputs/registry.ts';
import type { RtpPayloader } from './rtp-stream.ts';
import { RtspServer, type RtspRefusal } from './server.ts';
import { aacRtpPayloader, h264RtpPayloader, jpegRtpPayloader, type JpegSkipCounter } from './rtp-payloaders.ts';
import { authorizeRtspReader } from '../auth/rtsp.ts';
import { plainAddress } from '../../lib/address.ts';

/**
 * The one place that knows where a stream's frames come from for RTSP: the stream's shared encoder (flv, hls: its
 * H.264, encoded once for every protocol), or else its camera's JPEG view as RTP/JPEG can carry it (mpjpeg: the
 * camera's JPEGs, re-encoded once where they do not fit, or an H.264 camera decoded to JPEG once for MJPEG and RTSP
 * alike). The config allows `RTSP yes` on video streams only.
 */
export function rtspPayloaderOf(output: StreamOutput, media: CameraMedia, onSkip: JpegSkipCounter): RtpPayloader {
  if (output.video) return h264RtpPayloader(output.video);
  return jpegRtpPayloader(media.jpegView().forRtp, output.config.videoFrameRate, onSkip);
}

/**
 * The stream's sound for RTSP: the camera's AAC part, for an H.264 stream with `Audio yes` (MJPEG streams stay video
 * only). Undefined otherwise; a camera without sound gives a track that never becomes ready, so its SDP stays video only.
 */
export function rtspAudioPayloaderOf(output: StreamOutput, media: CameraMedia): RtpPayloader | undefined {
  if (!output.video || !output.config.audio) return undefined;
  const audio = media.audio();
  return aacRtpPayloader({
    get track() {
      return audio.track;
    },
    subscribe: (listener) => audio.subscribe(listener),
    cameraHasSound: () => media.feed.audioTrack !== undefined,
  });
}

/**
 * Connections and sessions one client address may hold over RTSP when MaxClientsPerIP is not set: one address cannot
 * take the whole server (4096 connections), yet a recorder pulling many streams from one host is still served.
 */
export const RTSP_DEFAULT_PER_ADDRESS = 256;

/**
 * The relay's RTSP edge: runs the RTSP server when RTSPPort is set, offers every video Stream with `RTSP yes` at
 * rtsp://HOST:RTSPPort/NAME, admits readers by the relay's MaxClients and MaxBandwidth (at PLAY) and MaxClientsPerIP.
 * The relay mounts each stream as it starts and unmounts it as it stops (reloads included).
 */
export class RtspEdge implements ProtocolServer {
  readonly protocol = 'rtsp';
  private closed: Promise<void> | undefined;

  private constructor(readonly server: RtspServer) {}

  /** Starts the server when the config sets RTSPPort; undefined when RTSP is off. */
  static async start(env: ProtocolEnv): Promise<RtspEdge | undefined> {
    const config = env.config();
    if (config.rtspPort === 0) return undefined;
    const perAddress = (): number => env.config().security.maxClientsPerIp || RTSP_DEFAULT_PER_ADDRESS;
    const server = await RtspServer.start({
      host: config.rtspBindAddress,
      port: config.rtspPort,
      udpPortRange: config.rtspUdpPortRange,
      sessionTimeoutMs: config.rtspSessionTimeoutMs,
      // MaxClientsPerIP bounds an address's RTSP connections and sessions as it bounds its HTTP connections.
      maxConnectionsPerAddress: perAddress,
      maxSessionsPerAddress: perAddress,
      log: env.log.child('rtsp'),
      admit: (name) => rtspRefusal(env, name),
      authorize: (name, uri, authorization, connection) => authorizeRtspReader(env.access, name, uri, authorization, connection),
    });
    return new RtspEdge(server);
  }

  get port(): number {
    return this.server.port;
  }

  mount(output: StreamOutput, media: CameraMedia): ProtocolMount | undefined {
    if (!output.config.rtsp || this.closed) return undefined;
    const name = output.config.name;
    const source = rtspPayloaderOf(output, media, (reason) => this.server.countSkipped(name, reason));
    const mount = this.server.mount(name, source, viewerLimits(output.config), rtspAudioPayloaderOf(output, media));
    const server = this.server;
    return {
      stats: () => rtspStats(server, name),
      consumers: (max) => rtspConsumers(server, name, max),
      unmount: () => {
        // A newer mount of the same name (the stream replaced) is not this one's to end.
        if (server.mounts.get(name) === mount) server.unmount(name);
      },
    };
  }

  /** Stops the server and its sessions. Safe to call twice. */
  close(): Promise<void> {
    this.closed ??= this.server.close();
    return this.closed;
  }
}

/** RTSP as an output protocol: no Format of its own, a server beside HTTP for the streams that say `RTSP yes`. */
export const rtspProtocol: OutputProtocol = {
  name: 'rtsp',
  formats: [],
  start: (env) => RtspEdge.start(env),
};

function rtspRefusal(env: ProtocolEnv, name: string): RtspRefusal | undefined {
  const refusal = env.admit(name);
  if (!refusal) return undefined;
  return { status: refusal.scope === 'server' ? 503 : 453, reason: refusal.reason };
}

function rtspStats(server: RtspServer, name: string): EdgeStreamStats {
  const stats = server.stats(name);
  if (!stats) return { viewers: 0, bytesOut: 0 };
  const { readers, bytesOut, drops, framesOut, readersServed, skippedFrames } = stats;
  return { viewers: readers.tcp + readers.udp, bytesOut, tcp: readers.tcp, udp: readers.udp, drops, framesOut, readersServed, skippedFrames };
}

function rtspConsumers(server: RtspServer, name: string, max: number): EdgeConsumer[] {
  return server.readers(name, max).map((session) => ({
    handle: session,
    address: plainAddress(session.connection.remoteAddress),
    since: session.since,
    bytesSent: session.bytesSent,
    drops: session.reader.delivery.drops,
    protocol: `rtsp/${session.transport}`,
  }));
}
