import type { RtcConfig } from 'node-datachannel';
import type { RelayConfig } from '../../conf/types.ts';
import type { Logger } from '../../lib/log.ts';
import type { Feed } from '../core/feed.ts';
import type { EdgeConsumer, EdgeStreamStats } from '../core/edge.ts';
import type { CameraMedia, ProtocolEnv, ProtocolMount, ProtocolServer } from '../outputs/registry.ts';
import { RelayError } from '../core/errors.ts';
import type { StreamOutput } from '../outputs/output.ts';
import { OfferError, parseWhepOffer } from './offer.ts';
import { WhepSession } from './session.ts';
import { StreamPackets } from './stream-packets.ts';
import { AudioPackets } from './audio-packets.ts';

/** Sessions still connecting at once, over all streams: POSTs that never complete ICE cannot pile up past this. */
export const MAX_CONNECTING_SESSIONS = 64;
const SWEEP_INTERVAL_MS = 1000;

/** A camera live this long without sending or announcing sound is taken as silent. */
const SILENCE_KNOWN_AFTER_MS = 5000;

/** What the WebRTC edge needs of the relay: its config, its streams and admission. */
export type WebRtcHost = Pick<ProtocolEnv, 'config' | 'output' | 'admit'>;

interface MountedStream {
  readonly output: StreamOutput;
  readonly packets: StreamPackets;
  /** The stream's sound as RTP, for a stream with `Audio yes`. */
  readonly audio: AudioPackets | undefined;
  readonly sessions: Set<WhepSession>;
}

/** True unless the camera is known to be silent: it sent or announced sound, or has not been live long enough to tell. */
export function mayHaveSound(feed: Pick<Feed, 'audioTrack' | 'announcedAudioTrack' | 'status'>, now = Date.now()): boolean {
  if (feed.audioTrack || feed.announcedAudioTrack) return true;
  const { state, liveSince } = feed.status;
  return state !== 'live' || liveSince === undefined || now - liveSince < SILENCE_KNOWN_AFTER_MS;
}

/** A wildcard bind address lets libdatachannel gather every interface; a specific one is the only host candidate. */
function rtcConfig(config: RelayConfig): RtcConfig {
  const port = config.webrtcUdpPort;
  const wildcard = config.httpBindAddress === '0.0.0.0' || config.httpBindAddress === '::';
  return {
    iceServers: [],
    ...(wildcard ? {} : { bindAddress: config.httpBindAddress }),
    ...(port > 0 ? { enableIceUdpMux: true, portRangeBegin: port, portRangeEnd: port } : {}),
  };
}

/**
 * The WHEP edge: serves every H.264 stream with `WebRTC yes` at /NAME/whep. Each stream is packetized once, on the
 * first session, for all its sessions; sessions count against MaxClients and MaxBandwidth like HTTP viewers (refused
 * before any ICE), and end with their stream when a reload removes or changes it.
 */
export class WebRtcEdge implements ProtocolServer {
  readonly protocol = 'webrtc';
  private readonly sessions = new Map<string, WhepSession>();
  private readonly streams = new Map<string, MountedStream>();
  /** What each mounted stream may take from its camera (its sound as Opus). */
  private readonly media = new WeakMap<StreamOutput, CameraMedia>();
  private readonly rtc: RtcConfig;
  private readonly sweepTimer: NodeJS.Timeout;
  private closed = false;

  constructor(
    private readonly host: WebRtcHost,
    private readonly log: Logger,
  ) {
    this.rtc = rtcConfig(host.config());
    this.sweepTimer = setInterval(() => this.sweep(), SWEEP_INTERVAL_MS);
    this.sweepTimer.unref();
  }

  /** Sessions still connecting (ICE or DTLS under way). */
  get connecting(): number {
    let count = 0;
    for (const session of this.sessions.values()) if (!session.connected) count++;
    return count;
  }

  get sessionCount(): number {
    return this.sessions.size;
  }

  /** Answers a WHEP offer for stream `name`: the SDP answer and the session's id (its URL's last part). */
  async offer(name: string, sdp: string, address: string): Promise<{ answer: string; id: string }> {
    if (this.closed) throw new RelayError('NOT_READY', 'the relay is stopping');
    const output = this.host.output(name);
    if (!output?.config.webrtc || !output.video) throw new RelayError('NOT_FOUND', `no WebRTC stream at /${name}/whep`);
    const refusal = this.host.admit(name);
    if (refusal) throw new RelayError('FULL', refusal.reason);
    if (this.connecting >= MAX_CONNECTING_SESSIONS) throw new RelayError('FULL', `too many WebRTC sessions connecting (${MAX_CONNECTING_SESSIONS})`);
    const stream = this.streamFor(name, output);
    let offer;
    try {
      offer = parseWhepOffer(sdp, stream.packets.profile);
    } catch (error) {
      if (error instanceof OfferError) throw new RelayError('BAD_REQUEST', error.message);
      throw error;
    }
    const session = new WhepSession({
      stream: name,
      packets: stream.packets,
      // Answered with sound while the camera may have some (an on-demand camera starts only now): the player shows its
      // unmute button when sound really arrives. A camera live for a while without any is answered video only.
      audio: mayHaveSound(output.feed) ? stream.audio : undefined,
      offer,
      offerSdp: sdp,
      rtc: this.rtc,
      additionalHosts: this.host.config().webrtcAdditionalHosts,
      connectTimeoutMs: this.host.config().webrtcConnectTimeoutMs,
      address,
      log: this.log,
      onClosed: (closed) => this.forget(name, closed),
    });
    this.sessions.set(session.id, session);
    stream.sessions.add(session);
    let answer: string;
    try {
      answer = await session.answer();
    } catch (error) {
      throw new RelayError('BAD_REQUEST', `the offer was refused: ${(error as Error).message.slice(0, 200)}`);
    }
    this.log.info(`${name}: WebRTC viewer ${address} offered (session ${session.id.slice(0, 6)})`);
    return { answer, id: session.id };
  }

  /** The session of stream `name` at `id`; a wrong name or id is 404, whoever asks. */
  session(name: string, id: string): WhepSession {
    const session = this.sessions.get(id);
    if (!session || !this.streams.get(name)?.sessions.has(session)) throw new RelayError('NOT_FOUND', 'no such WebRTC session');
    return session;
  }

  /** Offers a stream with `WebRTC yes` (packetized on its first session); the mount counts its sessions for admission and /stat.json. */
  mount(output: StreamOutput, media: CameraMedia): ProtocolMount | undefined {
    const name = output.config.name;
    if (!output.config.webrtc || !output.video) return undefined;
    this.media.set(output, media);
    return {
      stats: () => this.streamStats(name),
      consumers: (max) => this.consumers(name, max),
      unmount: () => {
        const stream = this.streams.get(name);
        if (stream?.output === output) this.unmount(name, stream);
      },
    };
  }

  streamStats(stream: string): EdgeStreamStats | undefined {
    const mounted = this.streams.get(stream);
    if (!mounted) return undefined;
    let bytesOut = 0;
    let connecting = 0;
    let nacks = 0;
    let retransmitted = 0;
    let keyframeRequests = 0;
    for (const session of mounted.sessions) {
      const stats = session.stats();
      bytesOut += stats.bytesSent;
      nacks += stats.nacks;
      retransmitted += stats.retransmitted;
      keyframeRequests += stats.keyframeRequests;
      if (stats.state === 'connecting') connecting++;
    }
    return { viewers: mounted.sessions.size, connecting, bytesOut, nacks, retransmitted, keyframeRequests, framesOut: mounted.packets.framesOut, packetsOut: mounted.packets.packetsOut };
  }

  consumers(stream: string, max: number): EdgeConsumer[] {
    const mounted = this.streams.get(stream);
    if (!mounted) return [];
    return [...mounted.sessions].slice(0, max).map((session) => {
      const stats = session.stats();
      const { localCandidateType, remoteCandidateType, transport, rttMs, packetsSent, nacks, retransmitted, keyframeRequests } = stats;
      return {
        ...stats, handle: session, address: session.address, since: session.since, bytesSent: stats.bytesSent, drops: 0, protocol: 'webrtc',
        webrtc: { localCandidateType, remoteCandidateType, transport, rttMs, packetsSent, nacks, retransmitted, keyframeRequests },
      };
    });
  }

  /** Ends every session and stops taking frames. Safe to call twice. */
  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.sweepTimer);
    for (const session of [...this.sessions.values()]) session.close('relay stopping');
    for (const stream of this.streams.values()) {
      stream.packets.close();
      stream.audio?.close();
    }
    this.streams.clear();
  }

  private streamFor(name: string, output: StreamOutput): MountedStream {
    let stream = this.streams.get(name);
    if (stream?.output !== output) {
      if (stream) this.unmount(name, stream);
      const video = output.video!;
      const packets = new StreamPackets(video, () => output.feed.state === 'live');
      const media = this.media.get(output);
      const audio = output.config.audio && media ? new AudioPackets(media.opus(), packets.ssrc) : undefined;
      stream = { output, packets, audio, sessions: new Set() };
      this.streams.set(name, stream);
    }
    return stream;
  }

  private unmount(name: string, stream: MountedStream): void {
    for (const session of [...stream.sessions]) session.close('stream removed or changed');
    stream.packets.close();
    stream.audio?.close();
    this.streams.delete(name);
  }

  private forget(name: string, session: WhepSession): void {
    this.sessions.delete(session.id);
    const stream = this.streams.get(name);
    stream?.sessions.delete(session);
    // A stream nobody watches over WebRTC is dropped from status; its packetizer already let go of the encoder.
    if (stream && stream.sessions.size === 0) this.streams.delete(name);
  }

  /** Ends the sessions of streams a reload removed, replaced or took off WebRTC. */
  private sweep(): void {
    for (const [name, stream] of this.streams) {
      const current = this.host.output(name);
      if (current !== stream.output || !current.config.webrtc) this.unmount(name, stream);
    }
  }
}
