import type { Socket as UdpSocket } from 'node:dgram';
import { sequenceDelta } from '../../adapters/rtsp/rtp.ts';
import { buildSenderReport } from '../../adapters/rtp/packet.ts';
import { frameInterleaved } from '../../adapters/rtsp/interleaved.ts';
import type { Viewer } from '../viewer.ts';
import { Closable } from './closable.ts';
import type { RtpFrame, RtpStream } from './rtp-stream.ts';

/** How a reader's packets leave: interleaved on its RTSP connection, or as datagrams to its client ports. */
export interface Delivery {
  readonly transport: 'tcp' | 'udp';
  readonly bytesSent: number;
  readonly drops: number;
  readonly closed: boolean;
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

  sendFrame(frame: RtpFrame): boolean {
    return !this.closed && this.viewer.send(frame.framed(this.channels[0]), frame.keyframe);
  }

  sendRtcp(packet: Buffer): void {
    if (!this.closed) this.viewer.sendRequired(frameInterleaved(this.channels[1], packet));
  }
}

/** A UDP reader: datagrams from the server's port pair to the client's. The kernel drops what a slow path cannot take. */
export class UdpDelivery extends Closable implements Delivery {
  readonly transport = 'udp';
  bytesSent = 0;
  readonly drops = 0;

  constructor(
    private readonly sockets: { rtp: UdpSocket; rtcp: UdpSocket },
    readonly address: string,
    readonly clientPorts: readonly [number, number],
  ) {
    super();
  }

  sendFrame(frame: RtpFrame): boolean {
    if (this.closed) return false;
    for (const packet of frame.packets) {
      this.sockets.rtp.send(packet, this.clientPorts[0], this.address);
      this.bytesSent += packet.length;
    }
    return true;
  }

  sendRtcp(packet: Buffer): void {
    if (!this.closed) this.sockets.rtcp.send(packet, this.clientPorts[1], this.address);
  }
}

/** Where a reader's RTP starts, for the PLAY reply's RTP-Info. */
export interface PlayStart {
  readonly sequence: number;
  readonly rtpTimestamp: number;
}

/**
 * One reader of an RtpStream: starts at a keyframe (the kept group at once, else the next keyframe), stops on pause
 * and resumes at the live point, and sends RTCP sender reports with its own packet and octet counts.
 */
export class RtspReader {
  packetsSent = 0;
  octetsSent = 0;
  private playing = false;
  private waitingForKeyframe = true;
  private lastSequence: number | undefined;
  private readonly listener = (frame: RtpFrame): void => this.onFrame(frame);

  constructor(
    readonly stream: RtpStream,
    readonly delivery: Delivery,
  ) {}

  get isPlaying(): boolean {
    return this.playing;
  }

  /**
   * Starts sending. Returns where RTP starts and `begin`, to be called once the PLAY reply is written: a client
   * reading replies skips RTP that comes before one. The kept frames are sent only if they are newer than anything
   * this reader had (after a PAUSE in the same group it waits for the next keyframe, so time never runs back).
   */
  play(now: number): { start: PlayStart; begin: () => void } {
    if (this.playing) return { start: { sequence: this.stream.nextSequence, rtpTimestamp: this.stream.rtpTimeAt(now) }, begin: () => {} };
    this.playing = true;
    const kept = this.stream.attach(this.listener);
    const first = kept[0];
    const replay = first !== undefined && (this.lastSequence === undefined || sequenceDelta(this.lastSequence, first.firstSequence) > 0);
    this.waitingForKeyframe = true;
    const pending: readonly RtpFrame[] = replay ? kept : [];
    const start = replay ? { sequence: first.firstSequence, rtpTimestamp: first.rtpTimestamp } : { sequence: this.stream.nextSequence, rtpTimestamp: this.stream.rtpTimeAt(now) };
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

  private onFrame(frame: RtpFrame): void {
    if (!this.playing || this.delivery.closed) return;
    if (this.lastSequence !== undefined && sequenceDelta(this.lastSequence, frame.firstSequence) <= 0) return;
    if (this.waitingForKeyframe && !frame.keyframe) return;
    this.waitingForKeyframe = false;
    this.lastSequence = frame.lastSequence;
    if (!this.delivery.sendFrame(frame)) return;
    this.packetsSent += frame.packets.length;
    this.octetsSent += frame.payloadOctets;
  }
}
