import { randomBytes, randomInt } from 'node:crypto';
import type { PeerConnection, RtcConfig, Track } from 'node-datachannel';
import { datachannel } from './datachannel.ts';
import type { Logger } from '../../lib/log.ts';
import type { WebRtcViewerFigures } from '../core/edge.ts';
import { buildSenderReport } from '../../media/rtp/packet.ts';
import { isRtcp, readRtcpFeedback } from '../../media/rtp/rtcp-feedback.ts';
import { roundTripFromReports } from '../../media/rtp/round-trip.ts';
import { withAdditionalHosts } from './answer-hosts.ts';
import type { WhepOffer } from './offer.ts';
import { NackResponder } from './nack-responder.ts';
import type { PacketSink, StreamPackets } from './stream-packets.ts';
import { otherSsrc, type AudioPackets } from './audio-packets.ts';
import { SessionSound } from './session-sound.ts';

/** ICE gathering for the answer is waited for this long at most (host candidates take milliseconds). */
const GATHERING_WAIT_MS = 1500;
/** A connected viewer that lost consent (no STUN answers) and does not come back within this is ended. */
const DISCONNECTED_GRACE_MS = 5000;
/** Sender reports go out this often: the viewer's receiver reports echo them, which gives the round-trip time. */
const SENDER_REPORT_INTERVAL_MS = 1000;

export interface WhepSessionOptions {
  readonly stream: string;
  readonly packets: StreamPackets;
  /** The stream's sound as RTP, when the stream carries sound and the camera may have it; sent if the offer takes Opus. */
  readonly audio: AudioPackets | undefined;
  readonly offer: WhepOffer;
  readonly offerSdp: string;
  readonly rtc: RtcConfig;
  /** Addresses written into the answer as extra host candidates (WebRTCAdditionalHosts). */
  readonly additionalHosts: readonly string[];
  readonly connectTimeoutMs: number;
  readonly address: string;
  readonly log: Logger;
  readonly onClosed: (session: WhepSession) => void;
}

/** One WebRTC viewer's figures, for /stat.json. */
export interface WhepSessionStats extends WebRtcViewerFigures {
  readonly state: 'connecting' | 'connected';
  readonly bytesSent: number;
  /** True when the viewer's offer negotiated RTX (RFC 4588): retransmissions go on their own SSRC. */
  readonly rtx: boolean;
  /** Keyframe requests answered with the kept group sent again (at most one a second over the stream's viewers). */
  readonly keyframesResent: number;
  /** Opus packets sent (0 when the session carries no sound). */
  readonly audioPacketsSent: number;
}

/**
 * One WHEP viewer: a peer connection (ICE, DTLS-SRTP in libdatachannel) with one send-only H.264 track fed with the
 * stream's shared packets. It starts on the kept group's keyframe as soon as the transport opens, answers NACKs from
 * the stream's history, and ends on DELETE, on ICE failure or lost consent, or when it does not connect in time.
 */
export class WhepSession implements PacketSink {
  /** The unguessable part of the session URL: holding it is the right to PATCH or DELETE the session. */
  readonly id = randomBytes(18).toString('base64url');
  readonly since = Date.now();
  private readonly peer: PeerConnection;
  private readonly track: Track;
  private readonly payloadType: number;
  /** The send-only Opus track, when this session carries sound. */
  private readonly sound: SessionSound | undefined;
  private open = false;
  private started = false;
  private closed = false;
  private connectTimer: NodeJS.Timeout | undefined;
  private disconnectTimer: NodeJS.Timeout | undefined;
  private reportTimer: NodeJS.Timeout | undefined;
  private rttMs: number | null = null;
  private payloadOctets = 0;
  /** The RTP timestamp and camera time (ms) of the newest live packet sent and when (performance.now()), to date sender reports. */
  private newestTimestamp: { rtp: number; pts: number; at: number } | undefined;
  private packetsSent = 0;
  private keyframeRequests = 0;
  /** RTP and RTCP bytes handed to the transport: libdatachannel's bytesSent() counts only data channels, 0 here. */
  private bytesSent = 0;
  private keyframesResent = 0;
  /** This viewer's own RTP sequence: a kept group sent again (PLI) must be new packets to the receiver, not duplicates. */
  private sequence = randomInt(0, 0x10000);
  private readonly nackResponder: NackResponder;

  constructor(private readonly options: WhepSessionOptions) {
    const { offer, packets } = options;
    this.payloadType = offer.payloadType;
    const rtc = datachannel();
    this.peer = new rtc.PeerConnection(`whep-${this.id.slice(0, 6)}`, options.rtc);
    const video = new rtc.Video(offer.videoMid, 'SendOnly');
    video.addH264Codec(offer.payloadType, `level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=${offer.profileLevelId}`);
    video.addSSRC(packets.ssrc, 'relay', 'relay', 'video');
    const rtx = offer.rtxPayloadType === undefined ? undefined : { payloadType: offer.rtxPayloadType, ssrc: otherSsrc(packets.ssrc, options.audio?.ssrc ?? 0) };
    if (rtx) {
      // The FID group ties the RTX stream to the video's SSRC, so the browser knows what it repairs (RFC 5576).
      video.addRTXCodec(rtx.payloadType, offer.payloadType, 90000);
      video.addSSRC(rtx.ssrc, 'relay', 'relay', 'video');
      video.parseSdpLine(`a=ssrc-group:FID ${packets.ssrc} ${rtx.ssrc}`);
    }
    this.nackResponder = new NackResponder(packets, rtx);
    this.track = this.peer.addTrack(video);
    this.track.onOpen(() => this.onOpen());
    this.track.onMessage((message) => this.onRtcp(message));
    // A sender report as soon as the sound starts, so the browser can line it up with the picture at once.
    this.sound = SessionSound.answer(this.peer, offer, options.audio, () => this.open && !this.closed, () => this.sendSenderReport());
    this.peer.onStateChange((state) => this.onState(state));
    this.connectTimer = setTimeout(() => this.close(`not connected within ${options.connectTimeoutMs / 1000} s`), options.connectTimeoutMs);
    this.connectTimer.unref();
    packets.add(this);
  }

  get address(): string {
    return this.options.address;
  }

  get connected(): boolean {
    return this.open && !this.closed;
  }

  /** Applies the offer and returns the answer with the relay's candidates; throws (closing the session) on a bad offer. */
  async answer(): Promise<string> {
    try {
      this.peer.setRemoteDescription(this.options.offerSdp, 'offer');
      await this.gathered();
      const answer = this.peer.localDescription()?.sdp;
      if (!answer) throw new Error('no answer was produced');
      return withAdditionalHosts(answer, this.options.additionalHosts);
    } catch (error) {
      this.close('offer refused');
      throw error;
    }
  }

  /** Adds candidates trickled by the client (`a=candidate:` lines of an SDP fragment). */
  addRemoteCandidates(candidates: readonly string[]): void {
    for (const candidate of candidates) this.peer.addRemoteCandidate(candidate, this.options.offer.videoMid);
  }

  deliver(packets: readonly Buffer[], keyframe: boolean): void {
    if (!this.open || this.closed) return;
    if (!this.started) {
      if (!keyframe) return;
      this.started = true;
    }
    if (packets.length > 0) this.newestTimestamp = { rtp: packets[0]!.readUInt32BE(4), pts: this.options.packets.newestPts, at: performance.now() };
    for (const packet of packets) this.send(packet);
  }

  stats(): WhepSessionStats {
    const pair = this.closed ? null : this.peer.getSelectedCandidatePair();
    return {
      state: this.open ? 'connected' : 'connecting',
      bytesSent: this.bytesSent + (this.sound?.bytesSent ?? 0),
      packetsSent: this.packetsSent,
      rttMs: this.rttMs,
      localCandidateType: pair?.local.type ?? null,
      remoteCandidateType: pair?.remote.type ?? null,
      // libdatachannel names ICE-TCP's kinds TCP_active, TCP_passive and TCP_so.
      transport: pair ? (/^tcp/i.test(pair.local.transportType) ? 'tcp' : 'udp') : null,
      nacks: this.nackResponder.nacks,
      retransmitted: this.nackResponder.retransmitted,
      rtx: this.options.offer.rtxPayloadType !== undefined,
      keyframeRequests: this.keyframeRequests,
      keyframesResent: this.keyframesResent,
      audioPacketsSent: this.sound?.packetsSent ?? 0,
    };
  }

  /** Ends the session (DELETE, timeout, failure, stream removed). Safe to call twice. */
  close(reason = 'ended'): void {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.connectTimer);
    clearTimeout(this.disconnectTimer);
    clearInterval(this.reportTimer);
    this.options.packets.remove(this);
    this.sound?.close();
    try {
      this.peer.close();
    } catch {
      // Already closed by the library (failed transport): nothing left to release.
    }
    this.options.log.info(`${this.options.stream}: WebRTC viewer ${this.options.address} left (${reason}; ${this.packetsSent} packets)`);
    this.options.onClosed(this);
  }

  private gathered(): Promise<void> {
    if (this.peer.gatheringState() === 'complete') return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, GATHERING_WAIT_MS);
      this.peer.onGatheringStateChange((state) => {
        if (state !== 'complete') return;
        clearTimeout(timer);
        resolve();
      });
    });
  }

  private onOpen(): void {
    if (this.closed) return;
    this.open = true;
    clearTimeout(this.connectTimer);
    const group = this.options.packets.startPackets();
    for (const frame of group) for (const packet of frame) this.send(packet);
    this.started = group.length > 0;
    this.reportTimer = setInterval(() => this.sendSenderReport(), SENDER_REPORT_INTERVAL_MS);
    this.reportTimer.unref();
  }

  /**
   * A sender report (RFC 3550) for the video SSRC, its RTP time carried on from the newest packet sent, and one for
   * the sound's whose RTP time is the same camera instant at 48 kHz: the same wall clock for the same camera time in
   * both is what lets the browser play picture and sound in step.
   */
  private sendSenderReport(): void {
    if (this.closed || !this.newestTimestamp) return;
    const now = performance.now();
    const elapsedMs = now - this.newestTimestamp.at;
    const rtpTimestamp = (this.newestTimestamp.rtp + Math.round(elapsedMs * 90)) >>> 0;
    const { ssrc } = this.options.packets;
    const wallClockMs = Date.now();
    this.sendOwn(buildSenderReport({ ssrc, cname: 'relay', wallClockMs, rtpTimestamp, packets: this.packetsSent, octets: this.payloadOctets }), false);
    this.sound?.sendReport(this.newestTimestamp.pts + elapsedMs, wallClockMs);
  }

  private onState(state: string): void {
    if (this.closed) return;
    if (state === 'failed' || state === 'closed') this.close(`transport ${state}`);
    else if (state === 'disconnected') {
      this.disconnectTimer ??= setTimeout(() => this.close('consent lost'), DISCONNECTED_GRACE_MS);
      this.disconnectTimer.unref();
    } else if (state === 'connected') {
      clearTimeout(this.disconnectTimer);
      this.disconnectTimer = undefined;
    }
  }

  private onRtcp(message: Buffer): void {
    if (this.closed || !isRtcp(message)) return;
    const rtt = roundTripFromReports(message, this.options.packets.ssrc, Date.now());
    if (rtt !== undefined) this.rttMs = Math.round(rtt * 10) / 10;
    const feedback = readRtcpFeedback(message);
    if (feedback.keyframeRequested) this.onKeyframeRequest();
    if (feedback.nacked.length === 0) return;
    for (const retransmission of this.nackResponder.answer(feedback.nacked)) {
      if ('rtx' in retransmission) this.sendOwn(retransmission.rtx);
      else this.send(retransmission.packet, retransmission.resentAs);
    }
  }

  /** PLI or FIR: the kept group from its keyframe, sent again as new packets, if the stream has not answered one this second. */
  private onKeyframeRequest(): void {
    this.keyframeRequests++;
    if (!this.open) return;
    const group = this.options.packets.keyframeAgain();
    if (group.length === 0) return;
    this.keyframesResent++;
    for (const frame of group) for (const packet of frame) this.send(packet);
  }

  /** Sends one of the stream's packets as this viewer's next (or, for a NACK, as `resentAs`). */
  private send(packet: Buffer, resentAs?: number): void {
    // The stream's packets are shared: this viewer's payload type and sequence number are written just before the
    // send, which copies the packet (libdatachannel encrypts its own copy), and the stream's sequence put back after.
    const original = packet.readUInt16BE(2);
    let sequence = resentAs;
    if (sequence === undefined) {
      sequence = this.sequence;
      this.sequence = (this.sequence + 1) & 0xffff;
      this.nackResponder.sent(sequence, original);
    }
    packet[1] = (packet[1]! & 0x80) | this.payloadType;
    packet.writeUInt16BE(sequence, 2);
    try {
      this.sendOwn(packet);
    } finally {
      packet.writeUInt16BE(original, 2);
    }
  }

  /** Sends a packet ready for this viewer (its payload type and sequence written). */
  private sendOwn(packet: Buffer, media = true): void {
    try {
      if (!this.track.sendMessageBinary(packet)) return;
      this.bytesSent += packet.length;
      if (media) {
        this.packetsSent++;
        this.payloadOctets += packet.length - 12;
      }
    } catch {
      this.close('transport closed');
    }
  }
}

