import type { PeerConnection, Track } from 'node-datachannel';
import { datachannel } from './datachannel.ts';
import { buildSenderReport } from '../../media/rtp/packet.ts';
import { OPUS_CLOCK_RATE } from '../../media/rtp/opus.ts';
import type { AudioPacketSink, AudioPackets } from './audio-packets.ts';
import type { WhepOffer } from './offer.ts';

/**
 * One WHEP viewer's sound: a send-only Opus track on the session's peer, fed with the stream's shared Opus packets.
 * Its stream id (msid) is the video's, so the browser plays both as one MediaStream, lip-synced by the sender reports.
 */
export class SessionSound implements AudioPacketSink {
  private readonly track: Track;
  packetsSent = 0;
  /** RTP and RTCP bytes handed to the transport. */
  bytesSent = 0;
  private octets = 0;

  private constructor(
    peer: PeerConnection,
    private readonly packets: AudioPackets,
    mid: string,
    private readonly payloadType: number,
    private readonly canSend: () => boolean,
    private readonly onFirstSent: () => void,
  ) {
    const audio = new (datachannel().Audio)(mid, 'SendOnly');
    audio.addOpusCodec(payloadType);
    audio.addSSRC(packets.ssrc, 'relay', 'relay', 'audio');
    this.track = peer.addTrack(audio);
    // The viewer's receiver reports for the sound carry nothing the relay acts on.
    this.track.onMessage(() => {});
    packets.add(this);
  }

  /**
   * The sound of a session whose offer takes Opus and whose stream may have sound; an offered audio section without it
   * is answered inactive (left alone, libdatachannel answers it send-only, and the browser shows a track that never
   * plays). `onFirstSent` is called when the first packet has gone out (the sound may start long after the picture).
   */
  static answer(peer: PeerConnection, offer: WhepOffer, packets: AudioPackets | undefined, canSend: () => boolean, onFirstSent: () => void): SessionSound | undefined {
    if (!offer.audio) return undefined;
    if (packets) return new SessionSound(peer, packets, offer.audio.mid, offer.audio.payloadType, canSend, onFirstSent);
    const silent = new (datachannel().Audio)(offer.audio.mid, 'Inactive');
    silent.addOpusCodec(offer.audio.payloadType);
    peer.addTrack(silent);
    return undefined;
  }

  get ssrc(): number {
    return this.packets.ssrc;
  }

  /** Sends one of the stream's Opus packets with this viewer's payload type, once the transport is open. */
  deliverAudio(packet: Buffer): void {
    if (!this.canSend() || !this.track.isOpen()) return;
    // Shared like the video's: the payload type is written just before the send, which copies the packet.
    packet[1] = (packet[1]! & 0x80) | this.payloadType;
    if (!this.sendOwn(packet)) return;
    this.packetsSent++;
    this.octets += packet.length - 12;
    if (this.packetsSent === 1) this.onFirstSent();
  }

  /** A sender report whose RTP time is camera time `cameraMs` at `wallClockMs`, as the video's says of the picture. */
  sendReport(cameraMs: number, wallClockMs: number): void {
    if (this.packetsSent === 0) return;
    const rtpTimestamp = Math.round(cameraMs * (OPUS_CLOCK_RATE / 1000)) >>> 0;
    this.sendOwn(buildSenderReport({ ssrc: this.packets.ssrc, cname: 'relay', wallClockMs, rtpTimestamp, packets: this.packetsSent, octets: this.octets }));
  }

  close(): void {
    this.packets.remove(this);
  }

  private sendOwn(packet: Buffer): boolean {
    try {
      if (!this.track.sendMessageBinary(packet)) return false;
    } catch {
      return false; // The transport is going: the video's send notices and ends the session.
    }
    this.bytesSent += packet.length;
    return true;
  }
}
