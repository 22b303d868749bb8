import type { Socket as UdpSocket } from 'node:dgram';
import { sequenceDelta } from '../../media/rtp/rtp.ts';
import { buildSenderReport } from '../../media/rtp/packet.ts';
import { frameInterleaved } from '../../media/rtsp/interleaved.ts';
import type { Viewer } from '../core/viewer.ts';
import { Closable } from './closable.ts';
import type { RtpFrame, RtpStream } from './rtp-stream.ts';

/** How a reader's packets leave: interleaved on its RTSP connection, or as datagrams to its client ports. */
export interface Delivery {
  readonly transport: 'tcp' | 'udp';
  readonly bytesSent: number;
  readonly drops: number;
  readonly closed: boolean;
  /** False while the client has not shown it wants packets (UDP consent): frames are then withheld, not sent. */
  readonly ready: boolean;
  /** Called when the delivery becomes ready again. */
  onReady(listener: () => void): void;
  /** Sends a frame unless the reader is behind; false when it was dropped. */
  sendFrame(frame: RtpFrame): boolean;
  sendRtcp(packet: Buffer): void;
  onClose(callback: () => void): void;
  close(): void;
}

/**
 * An interleaved reader: a Viewer over the RTSP socket, so the slow-reader budget and drop-to-keyframe apply (and a
 * reader past the hard limit loses its connection). TEARDOWN ends the delivery, not the connection.
 */
export class TcpDelivery extends Closable implements Delivery {
  readonly transport = 'tcp';

  constructor(
    readonly viewer: Viewer,
    readonly channels: readonly [number, number],
    /** Sound beside a picture on the same connection: it never starts the viewer's picture after a drop. */
    private readonly sound = false,
  ) {
    super();
    viewer.onClose(() => this.close());
  }

  get bytesSent(): number {
    return this.viewer.bytesSent;
  }

  get drops(): number {
    return this.viewer.drops;
  }

  /** The client asked on this connection: it is always ready for what the connection carries. */
  get ready(): boolean {
    return true;
  }

  onReady(): void {}

  sendFrame(frame: RtpFrame): boolean {
    return !this.closed && this.viewer.send(frame.framed(this.channels[0]), frame.keyframe && !this.sound);
  }

  sendRtcp(packet: Buffer): void {
    if (!this.closed) this.viewer.sendRequired(frameInterleaved(this.channels[1], packet));
  }
}

/**
 * A UDP reader: datagrams from the server's port pair to the client's. The kernel drops what a slow path cannot take.
 * Nothing goes to a port that has not asked for it (the relay would otherwise reflect a stream at any port of the
 * requester's address): a packet from the client's RTP or RTCP port (the NAT punch ffmpeg, GStreamer and live555 send
 * right after SETUP, RTCP receiver reports) gives consent for `consentMs`; requests on the client's own connection
 * renew it, but only within twice that of the port last speaking, so a port that went silent stops getting RTP.
 */
export class UdpDelivery extends Closable implements Delivery {
  readonly transport = 'udp';
  bytesSent = 0;
  readonly drops = 0;
  private heardAt: number | undefined;
  private consentUntil = 0;
  private readyListener: (() => void) | undefined;

  constructor(
    private readonly sockets: { rtp: UdpSocket; rtcp: UdpSocket },
    readonly address: string,
    readonly clientPorts: readonly [number, number],
    private readonly consentMs: number,
  ) {
    super();
  }

  get ready(): boolean {
    return Date.now() <= this.consentUntil;
  }

  onReady(listener: () => void): void {
    this.readyListener = listener;
  }

  /** A packet came from the client's port. */
  hear(now: number): void {
    this.heardAt = now;
    this.extend(now);
  }

  /** A request on the client's own connection: keeps the consent its port gave, within twice consentMs of it speaking. */
  renew(now: number): void {
    if (this.heardAt !== undefined && now - this.heardAt <= 2 * this.consentMs) this.extend(now);
  }

  sendFrame(frame: RtpFrame): boolean {
    if (this.closed || !this.ready) return false;
    for (const packet of frame.packets) {
      this.sockets.rtp.send(packet, this.clientPorts[0], this.address);
      this.bytesSent += packet.length;
    }
    return true;
  }

  sendRtcp(packet: Buffer): void {
    if (!this.closed && this.ready) this.sockets.rtcp.send(packet, this.clientPorts[1], this.address);
  }

  private extend(now: number): void {
    const wasReady = now <= this.consentUntil;
    this.consentUntil = Math.max(this.consentUntil, now + this.consentMs);
    if (!wasReady && !this.closed) this.readyListener?.();
  }
}

/** Where a reader's RTP starts, for the PLAY reply's RTP-Info. */
export interface PlayStart {
  readonly sequence: number;
  readonly rtpTimestamp: number;
  /** The camera time RTP starts at, when known: a second track of the session starts at the same instant. */
  readonly timeMs: number | undefined;
}

/** Whether an address may be sent `bytes` of kept frames now (charged when it may). */
export type ReplayGate = (bytes: number, now: number) => boolean;

/** Signed distance from RTP time a to b (32-bit wrap). */
const timestampDelta = (a: number, b: number): number => (b - a) | 0;

/**
 * One reader of an RtpStream: starts at a keyframe (the kept group at once when its replay budget allows, else the
 * next keyframe), stops on pause and resumes at the live point, and sends RTCP sender reports with its own packet and
 * octet counts. A UDP reader whose client has not yet given consent starts once it does.
 */
export class RtspReader {
  packetsSent = 0;
  octetsSent = 0;
  private playing = false;
  private waitingForKeyframe = true;
  private lastSequence: number | undefined;
  private lastTimestamp: number | undefined;
  /** Where a second track starts (the first track's instant at PLAY); undefined for the first track. */
  private startMs: number | undefined;
  private readonly listener = (frame: RtpFrame): void => this.onFrame(frame);

  constructor(
    readonly stream: RtpStream,
    readonly delivery: Delivery,
    private readonly mayReplay: ReplayGate = () => true,
  ) {
    delivery.onReady(() => {
      if (!this.playing || !this.waitingForKeyframe) return;
      // A second track waited for its port from the first track's instant on, as PLAY announced.
      const kept = this.startMs === undefined ? this.stream.keptFrames : this.stream.framesSince(this.startMs);
      for (const frame of this.replayable(kept, Date.now())) this.onFrame(frame);
    });
  }

  get isPlaying(): boolean {
    return this.playing;
  }

  /**
   * Starts sending. Returns where RTP starts and `begin`, to be called once the PLAY reply is written: a client
   * reading replies skips RTP that comes before one. The kept frames are sent only if they are newer than anything
   * this reader had (after a PAUSE in the same group it waits for the next keyframe, so time never runs back) and the
   * replay budget of its address allows.
   */
  play(now: number, fromMs?: number): { start: PlayStart; begin: () => void } {
    const live = (): PlayStart => {
      const timeMs = fromMs ?? this.stream.cameraTimeAt(now);
      return { sequence: this.stream.nextSequence, rtpTimestamp: timeMs === undefined ? this.stream.rtpTimeAt(now) : this.stream.rtpTimeOf(timeMs), timeMs };
    };
    if (this.playing) return { start: live(), begin: () => {} };
    this.playing = true;
    this.waitingForKeyframe = true;
    this.startMs = fromMs;
    const attached = this.stream.attach(this.listener);
    // A second track starts at the first one's instant: its recent frames from then on.
    const kept = fromMs === undefined ? attached : this.stream.framesSince(fromMs);
    // A UDP reader without consent yet is announced the kept group, which it gets once its port speaks.
    const pending = this.delivery.ready ? this.replayable(kept, now) : [];
    const first = this.delivery.ready ? pending[0] : this.newer(kept) ? kept[0] : undefined;
    const start = first && fromMs === undefined ? { sequence: first.firstSequence, rtpTimestamp: first.rtpTimestamp, timeMs: first.timeMs }
      : first ? { ...live(), sequence: first.firstSequence } : live();
    return {
      start,
      begin: () => {
        for (const frame of pending) this.onFrame(frame);
      },
    };
  }

  /** Stops sending; the session stays. */
  pause(): void {
    if (!this.playing) return;
    this.playing = false;
    this.stream.detach(this.listener);
  }

  /** A sender report if this reader got packets since it started; called every few seconds. */
  sendReport(now: number): void {
    if (!this.playing || this.packetsSent === 0 || this.delivery.closed) return;
    const { ssrc, cname } = this.stream;
    this.delivery.sendRtcp(buildSenderReport({ ssrc, cname, wallClockMs: now, rtpTimestamp: this.stream.rtpTimeAt(now), packets: this.packetsSent, octets: this.octetsSent }));
  }

  close(): void {
    this.pause();
    this.delivery.close();
  }

  /** True when `kept` starts after anything this reader had, in sequence and in RTP time. */
  private newer(kept: readonly RtpFrame[]): boolean {
    const first = kept[0];
    if (!first) return false;
    if (this.lastSequence !== undefined && sequenceDelta(this.lastSequence, first.firstSequence) <= 0) return false;
    return this.lastTimestamp === undefined || timestampDelta(this.lastTimestamp, first.rtpTimestamp) > 0;
  }

  /** The kept frames if they are newer than what this reader had and its address may be sent them now. */
  private replayable(kept: readonly RtpFrame[], now: number): readonly RtpFrame[] {
    if (!this.newer(kept)) return [];
    return this.mayReplay(kept.reduce((sum, frame) => sum + frame.bytes, 0), now) ? kept : [];
  }

  private onFrame(frame: RtpFrame): void {
    if (!this.playing || this.delivery.closed) return;
    if (this.lastSequence !== undefined && sequenceDelta(this.lastSequence, frame.firstSequence) <= 0) return;
    if (this.waitingForKeyframe && !frame.keyframe) return;
    // Withheld for want of consent: it starts again at a keyframe once the client asks.
    if (!this.delivery.ready) {
      this.waitingForKeyframe = true;
      return;
    }
    this.waitingForKeyframe = false;
    this.lastSequence = frame.lastSequence;
    this.lastTimestamp = frame.rtpTimestamp;
    if (!this.delivery.sendFrame(frame)) return;
    this.packetsSent += frame.packets.length;
    this.octetsSent += frame.payloadOctets;
  }
}
