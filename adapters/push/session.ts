import { performance } from 'node:perf_hooks';
import type { RemoteInfo } from 'node:dgram';
import { ProtocolError } from '../../media/errors.ts';
import { AdapterError, asAdapterError } from '../errors.ts';
import { ReceiverReporter } from '../../media/rtp/rtcp.ts';
import { parseRtpPacket, type RtpPacket } from '../../media/rtp/rtp.ts';
import type { VideoUnit } from '../../media/types.ts';
import { H264UnitBuilder } from '../../media/h264/units.ts';
import { KeyframeRequests, pictureLossIndication } from './feedback.ts';
import { codecForPayloadType, isDecodableKeyframe, pushedUnit, type DepacketizedFrame, type PushCodec } from './codecs.ts';
import type { PortPair } from './ports.ts';
import { RTP_CLOCK_RATE, SourceStream } from './source-stream.ts';
import { SsrcFollower } from './ssrc-follow.ts';
import { plainAddress } from '../../lib/address.ts';
import type { PushAudioStream } from './audio-stream.ts';

/** Larger than any RTP packet a sender keeps under its path MTU (even with jumbo frames); bigger ones are dropped. */
export const MAX_RTP_PACKET_BYTES = 9000;
const REPORT_INTERVAL_MS = 2000;
/** A camera waiting to join a stream asks again this often: a keyframe may take a while to arrive whole. */
const JOIN_REQUEST_INTERVAL_MS = 1000;

/** Where a push session stands, as validate_stream reports it. */
export type PushSessionState = 'waiting' | 'receiving' | 'streaming' | 'ended';

/** Why a push session ended. */
export type PushEndReason = 'stopped' | 'operator' | 'no-packets' | 'silent' | 'protocol' | 'closed';

/** Counters of one push session, for validate_stream and the log line at its end. */
export interface PushCounters {
  packets: number;
  bytes: number;
  frames: number;
  /** Datagrams from any address but the publisher's. */
  foreign: number;
  /** Packets of another SSRC than the one start_stream assigned (or, with FollowSSRC, the one followed since). */
  wrongSsrc: number;
  /** Not RTP, truncated, oversized, of a payload type that is not the stream's, or with an unreadable payload header. */
  malformed: number;
  /** Packets of a payload type the relay cannot depacketize (neither JPEG nor a dynamic type). */
  unsupported: number;
  lost: number;
  droppedFrames: number;
  rtcpIn: number;
  rtcpOut: number;
  /** Keyframe requests (RTCP PLI) sent after losses. */
  keyframeRequests: number;
}

/** What a push session needs: its ports, whom to trust, how to depacketize, and where frames and its end go. */
export interface PushSessionOptions {
  readonly ports: PortPair;
  /** The address the handshake came from; only its datagrams are taken. */
  readonly publisherAddress: string;
  readonly codec: PushCodec;
  /** The SSRC start_stream assigned: the only one taken, until FollowSSRC follows a restart. */
  readonly ssrc: number;
  readonly maxFrameBytes: number;
  readonly followSsrc: boolean;
  /** No packet within this long after start, or silence this long later, ends the session. */
  readonly timeoutMs: number;
  /** Called for every frame from the first decodable keyframe on. */
  readonly onFrame: (unit: VideoUnit) => void;
  /** Called once when the session ends for any reason but close(); the ports are already released then. */
  readonly onEnd: (reason: PushEndReason, error?: AdapterError) => void;
  /** Frees the ports; called once for each pair. */
  readonly release: (ports: PortPair) => void;
  /** The stream's sound on its own port pair, when start_stream asked for it; its times follow the picture's frames. */
  readonly audio?: PushAudioStream;
  /** The sound's port pair, released with the picture's. */
  readonly audioPorts?: PortPair;
}


/**
 * One publisher's RTP stream on its port pair: takes only the handshake's address and the SSRC the handshake assigned
 * (with FollowSSRC, a new SSRC that starts on a keyframe after the current one fell silent), puts packets in order,
 * depacketizes, and answers the publisher's RTCP with receiver reports. A bad packet is dropped and counted; only a
 * frame past MaxFrameSize, silence or the socket failing ends the stream.
 */
export class PushSession {
  state: PushSessionState = 'waiting';
  endReason: PushEndReason | undefined;
  readonly counters: PushCounters = {
    packets: 0, bytes: 0, frames: 0, foreign: 0, wrongSsrc: 0, malformed: 0, unsupported: 0, lost: 0, droppedFrames: 0, rtcpIn: 0, rtcpOut: 0, keyframeRequests: 0,
  };
  readonly startedAt = Date.now();
  private lastPacketAt: number | undefined;
  /** The source frames are taken from and, with FollowSSRC, a new SSRC on trial, taken once it gives a decodable keyframe. */
  private readonly sources: SsrcFollower<SourceStream>;
  /** Frames the sources before the current one dropped. */
  private droppedBefore = 0;
  private clockOffsetMs = 0;
  private lastFrameMs = 0;
  /** performance.now() when the last frame went out. */
  private lastFrameAt = 0;
  private readonly reporter = new ReceiverReporter(RTP_CLOCK_RATE);
  private rtcpReturnPort: number | undefined;
  private readonly keyframeRequests = new KeyframeRequests();
  /** H.264 parameter sets become the units' track here, where they first arrive. */
  private readonly h264Units = new H264UnitBuilder();
  private joinRequestAt = -Infinity;
  private readonly timers: NodeJS.Timeout[] = [];
  /** The publisher's address, the only one whose datagrams are taken. */
  readonly publisher: string;

  constructor(private readonly options: PushSessionOptions) {
    this.publisher = plainAddress(options.publisherAddress);
    const source = (ssrc: number) => new SourceStream(ssrc, options.codec, options.maxFrameBytes);
    this.sources = new SsrcFollower(source(options.ssrc), options.followSsrc, source);
    const { rtp, rtcp } = options.ports;
    rtp.on('message', (data, remote) => this.onRtp(data, remote));
    rtcp.on('message', (data, remote) => this.onRtcp(data, remote));
    // A socket error after binding (rare on UDP) ends the stream rather than the process.
    rtp.on('error', (error) => this.end('protocol', new AdapterError('CONNECT', `push: RTP socket: ${error.message}`)));
    rtcp.on('error', (error) => this.end('protocol', new AdapterError('CONNECT', `push: RTCP socket: ${error.message}`)));
    const check = Math.max(100, Math.min(1000, options.timeoutMs / 4));
    this.timers.push(setInterval(() => this.checkSilence(), check), setInterval(() => this.sendReport(), REPORT_INTERVAL_MS));
    for (const timer of this.timers) timer.unref();
  }

  private get current(): SourceStream {
    return this.sources.current;
  }

  get rtpPort(): number {
    return this.options.ports.rtpPort;
  }

  get codec(): PushCodec {
    return this.options.codec;
  }

  /** The stream's sound, when the publisher sends some. */
  get audio(): PushAudioStream | undefined {
    return this.options.audio;
  }

  /** Ends the session because its publisher or an operator asked (stop_stream) or the relay is stopping; no onEnd call. */
  close(reason: PushEndReason = 'closed'): void {
    this.finish(reason);
  }

  private end(reason: PushEndReason, error?: AdapterError): void {
    if (this.finish(reason)) this.options.onEnd(reason, error);
  }

  private finish(reason: PushEndReason): boolean {
    if (this.state === 'ended') return false;
    this.state = 'ended';
    this.endReason = reason;
    for (const timer of this.timers) clearInterval(timer);
    this.options.release(this.options.ports);
    this.options.audio?.close();
    if (this.options.audioPorts) this.options.release(this.options.audioPorts);
    return true;
  }

  private checkSilence(): void {
    const now = Date.now();
    if (this.lastPacketAt === undefined) {
      if (now - this.startedAt > this.options.timeoutMs) this.end('no-packets');
    } else if (now - this.lastPacketAt > this.options.timeoutMs) {
      this.end('silent', new AdapterError('TIMEOUT', `publisher silent for ${this.options.timeoutMs / 1000} s`));
    }
  }

  private onRtp(data: Buffer, remote: RemoteInfo): void {
    if (this.state === 'ended') return;
    if (plainAddress(remote.address) !== this.publisher) {
      this.counters.foreign++;
      return;
    }
    let packet: RtpPacket;
    try {
      if (data.length > MAX_RTP_PACKET_BYTES) throw new Error('oversized');
      packet = parseRtpPacket(data);
    } catch {
      this.counters.malformed++;
      return;
    }
    const now = performance.now();
    // Another SSRC is refused before anything else is read from it, unless FollowSSRC may take it as a restart.
    if (!this.sources.admits(packet.ssrc, now)) {
      this.counters.wrongSsrc++;
      return;
    }
    const codec = codecForPayloadType(packet.payloadType, this.options.codec);
    if (codec === undefined) {
      this.counters.unsupported++;
      return;
    }
    if (codec !== this.options.codec) {
      this.counters.malformed++;
      return;
    }
    const source = this.sources.take(packet.ssrc, now);
    if (source === this.current) this.takeFromCurrent(packet, data.length, now);
    else if (source) this.tryNewSource(source, packet, data.length, now);
    else this.counters.wrongSsrc++; // another SSRC is on trial
  }

  private takeFromCurrent(packet: RtpPacket, size: number, now: number): void {
    this.counters.packets++;
    this.counters.bytes += size;
    this.lastPacketAt = Date.now();
    if (this.state === 'waiting') this.state = 'receiving';
    this.reporter.onRtp(packet, now);
    try {
      this.deliver(this.current.receive(packet, size, now));
    } catch (error) {
      this.end('protocol', error instanceof AdapterError || error instanceof ProtocolError ? asAdapterError(error, '') : new AdapterError('PROTOCOL', String(error)));
    }
    // A dropped frame leaves the stream waiting for a keyframe: ask for one rather than wait for the sender's schedule.
    const dropped = this.droppedBefore + this.current.depacketizer.droppedFrames;
    if (dropped > this.counters.droppedFrames) this.requestKeyframe(now);
    this.counters.droppedFrames = dropped;
  }

  private deliver(received: { frames: DepacketizedFrame[]; lost: number; malformed: number }): void {
    this.counters.lost += received.lost;
    this.counters.malformed += received.malformed;
    for (const frame of received.frames) this.emit(frame.data, frame.keyframe, frame.rtpTimestamp);
  }

  /**
   * FollowSSRC, the current SSRC silent as a restarted sender's is: the SSRC on trial (its packets count as another
   * SSRC's) becomes the stream's once it gives a decodable keyframe; the sound's clock then starts over against it.
   */
  private tryNewSource(trial: SourceStream, packet: RtpPacket, size: number, now: number): void {
    this.counters.wrongSsrc++;
    let received;
    try {
      received = trial.receive(packet, size, now);
    } catch {
      this.sources.endTrial(); // a frame past MaxFrameSize from an SSRC on trial ends the trial, not the stream
      return;
    }
    const start = received.frames.findIndex((frame) => isDecodableKeyframe(this.options.codec, frame));
    if (start < 0) return;
    this.counters.wrongSsrc -= trial.packets;
    this.counters.packets += trial.packets;
    this.counters.bytes += trial.bytes;
    this.droppedBefore += this.sources.promote().depacketizer.droppedFrames;
    this.options.audio?.noteVideoRestart();
    this.lastPacketAt = Date.now();
    // Timestamps keep going forward across the change, the silence kept as a gap: the sound placed by arrival sees one.
    this.clockOffsetMs = this.lastFrameMs + Math.max(1, now - this.lastFrameAt);
    this.reporter.onRtp(packet, now);
    this.deliver({ ...received, frames: received.frames.slice(start) });
  }

  private emit(data: DepacketizedFrame['data'], keyframe: boolean, rtpTimestamp: number): void {
    if (this.state !== 'streaming') {
      if (!isDecodableKeyframe(this.options.codec, { data, keyframe, rtpTimestamp })) return;
      this.state = 'streaming';
    }
    this.lastFrameMs = this.clockOffsetMs + this.current.clock.toMs(rtpTimestamp);
    this.lastFrameAt = performance.now();
    this.options.audio?.noteVideoFrame(rtpTimestamp, this.lastFrameMs);
    this.counters.frames++;
    const unit = pushedUnit(this.options.codec, { data, keyframe, rtpTimestamp }, this.lastFrameMs, this.h264Units);
    if (unit) this.options.onFrame(unit);
  }

  private onRtcp(data: Buffer, remote: RemoteInfo): void {
    if (this.state === 'ended') return;
    if (plainAddress(remote.address) !== this.publisher) {
      this.counters.foreign++;
      return;
    }
    this.counters.rtcpIn++;
    // Only the stream's own sender (its SSRC opens the compound packet) says where reports and keyframe requests go.
    if (data.length < 8 || data.readUInt32BE(4) !== this.current.ssrc) return;
    this.rtcpReturnPort = remote.port; // symmetric RTCP: reports go back where the publisher's RTCP came from
    const senderReport = this.reporter.onRtcp(data.subarray(0, MAX_RTP_PACKET_BYTES), performance.now(), this.current.ssrc);
    if (senderReport) this.options.audio?.noteVideoReport(senderReport);
  }

  /**
   * Asks the publisher for a keyframe for a camera that joins the stream under way: called on each frame it cannot
   * start on, it sends at most one request a second, the first as soon as the publisher's RTCP says where to.
   */
  askForKeyframe(): void {
    const now = performance.now();
    if (now - this.joinRequestAt < JOIN_REQUEST_INTERVAL_MS) return;
    if (this.requestKeyframe(now)) this.joinRequestAt = now;
  }

  /** Sends an RTCP PLI to where the publisher's RTCP comes from (a publisher that sends none gets none); true if sent. */
  private requestKeyframe(nowMs: number): boolean {
    if (this.state === 'ended' || this.rtcpReturnPort === undefined) return false;
    if (!this.keyframeRequests.take(nowMs)) return false;
    this.counters.keyframeRequests++;
    this.options.ports.rtcp.send(pictureLossIndication(this.reporter.ssrc, this.current.ssrc), this.rtcpReturnPort, this.publisher, () => {});
    return true;
  }

  private sendReport(): void {
    this.options.audio?.sendReport();
    if (this.state === 'ended' || this.rtcpReturnPort === undefined || this.counters.packets === 0) return;
    this.counters.rtcpOut++;
    this.options.ports.rtcp.send(this.reporter.buildReport(performance.now()), this.rtcpReturnPort, this.publisher, () => {});
  }
}
