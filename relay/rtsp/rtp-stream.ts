import { randomBytes } from 'node:crypto';
import { buildRtpPacket, type RtpPayload } from '../../media/rtp/packet.ts';
import { Hub } from '../core/hub.ts';
import { ByteRate } from './replay-budget.ts';

/** One frame (a picture or an AAC frame) as RTP packets, built once and sent as the same Buffers to every reader of the stream. */
export class RtpFrame {
  private readonly framedByChannel = new Map<number, Buffer>();

  constructor(
    readonly packets: readonly Buffer[],
    readonly keyframe: boolean,
    readonly rtpTimestamp: number,
    readonly firstSequence: number,
    /** The frame's time on the camera timeline, ms. */
    readonly timeMs: number,
  ) {}

  /** Sequence number of the frame's last packet. */
  get lastSequence(): number {
    return (this.firstSequence + this.packets.length - 1) & 0xffff;
  }

  /** Bytes of the frame's packets. */
  get bytes(): number {
    return this.packets.reduce((sum, packet) => sum + packet.length, 0);
  }

  /** RTP payload octets, as sender reports count them. */
  get payloadOctets(): number {
    return this.packets.reduce((sum, packet) => sum + packet.length - 12, 0);
  }

  /**
   * Every packet framed for RTSP interleaving on `channel` (RFC 2326 10.12), as one Buffer: one write per reader per
   * frame. Built once per channel in use; readers nearly always ask for channel 0.
   */
  framed(channel: number): Buffer {
    let bytes = this.framedByChannel.get(channel);
    if (!bytes) {
      const parts: Buffer[] = [];
      for (const packet of this.packets) parts.push(Buffer.from([0x24, channel, packet.length >> 8, packet.length & 0xff]), packet);
      bytes = Buffer.concat(parts);
      this.framedByChannel.set(channel, bytes);
    }
    return bytes;
  }
}

/** Called with each new frame of a stream. */
export type RtpFrameListener = (frame: RtpFrame) => void;

/** Hands a frame's RTP payloads, keyframe flag and presentation time (ms) to the stream that numbers them. */
export type RtpEmit = (payloads: readonly RtpPayload[], keyframe: boolean, timestampMs: number) => void;

/** Where a stream's frames come from: an encoder's H.264, a camera's JPEGs or its AAC sound, packetized by codec. */
export interface RtpPayloader {
  readonly codec: 'h264' | 'jpeg' | 'aac';
  /** RTP clock rate: 90 kHz for video, the sample rate for sound. */
  readonly clockRate?: number;
  readonly payloadType: number;
  /** True while the source is known to be coming but cannot be described yet (a camera's sound before its first frame). */
  readonly pending?: boolean;
  /** True once the SDP can be written (H.264: the encoder has produced its parameter sets). */
  readonly ready: boolean;
  /** The SDP media section for this source (m=, rtpmap, fmtp, control), once ready. */
  mediaLines(): string[];
  /** Starts emitting: first the frames kept for instant start, then live ones. Returns the function that stops it. */
  start(emit: RtpEmit): () => void;
  /** Holds the camera and encoder running while the returned function is not called (safe to call twice). */
  acquire(): () => void;
}

const VIDEO_CLOCK_RATE = 90_000;

/** How a stream's RTP time is kept: on its own frames, or on another stream's camera clock (sound on its picture's). */
export interface RtpStreamOptions {
  /** The stream whose camera time at a wall-clock instant this one's RTP time follows (one timeline for a session). */
  readonly clock?: RtpStream;
  /** Frames kept whatever their keyframe flags (sound: enough to start beside the picture's kept group); 0: none. */
  readonly recentFrames?: number;
  /**
   * Runs the source from the start, readers or not, so recent frames are there when the first reader comes (sound,
   * whose frames the camera's part produces anyway: packetizing them costs little).
   */
  readonly runAlways?: boolean;
}

/**
 * One RTSP-served stream: packetizes its source's frames once (one SSRC and one sequence for every reader), keeps
 * the frames from the last keyframe on, and hands each new frame to its readers. It runs the source only while it
 * has readers, so a stream nobody reads over RTSP costs nothing.
 */
export class RtpStream {
  readonly ssrc = randomBytes(4).readUInt32BE(0);
  readonly cname = `relay-${randomBytes(4).toString('hex')}`;
  private sequence = randomBytes(2).readUInt16BE(0);
  private readonly timestampBase = randomBytes(4).readUInt32BE(0);
  /** The stream's frames to its readers, and the frames from the last keyframe on for a reader that joins. */
  private readonly hub: Hub<RtpFrame>;
  private stopSource: (() => void) | undefined;
  private last: { ms: number; at: number } | undefined;
  private recent: RtpFrame[] = [];
  /** True while the source hands over its kept frames at start: those are not the stream's live rate. */
  private starting = false;
  /** The stream's own live rate, which bounds what a reader can be sent beyond it. */
  readonly rate = new ByteRate();
  framesOut = 0;

  constructor(
    readonly name: string,
    readonly source: RtpPayloader,
    /** A reader that throws is reported here and removed; it cannot stop the others from getting the frame. */
    onListenerError: (error: Error) => void = () => {},
    private readonly options: RtpStreamOptions = {},
  ) {
    this.hub = new Hub<RtpFrame>({ keyframe: (frame) => frame.keyframe, size: (frame) => frame.bytes, onSubscriberError: onListenerError });
    if (options.runAlways) this.startSource();
  }

  /** Read at each frame: a sound source knows its sample rate only once its first frame has come. */
  private get clockRate(): number {
    return this.source.clockRate ?? VIDEO_CLOCK_RATE;
  }

  /** The sequence number the next packet will carry. */
  get nextSequence(): number {
    return this.sequence;
  }

  /** The camera time (ms) at wall-clock `now`, extrapolated from the last frame of this stream or of its clock. */
  cameraTimeAt(now: number): number | undefined {
    if (this.options.clock) return this.options.clock.cameraTimeAt(now);
    return this.last ? this.last.ms + (now - this.last.at) : undefined;
  }

  /** The RTP time of camera time `ms`. */
  rtpTimeOf(ms: number): number {
    return (this.timestampBase + Math.round(ms * (this.clockRate / 1000))) >>> 0;
  }

  /** The RTP time that corresponds to wall-clock `now`, extrapolated from the last frame. */
  rtpTimeAt(now: number): number {
    const ms = this.cameraTimeAt(now);
    return ms === undefined ? this.timestampBase : this.rtpTimeOf(ms);
  }

  /** The recent frames at or after camera time `ms` (streams that keep recent frames; else none). */
  framesSince(ms: number): readonly RtpFrame[] {
    return this.recent.filter((frame) => frame.timeMs >= ms);
  }

  /**
   * Adds a reader: starts the source if this is the first, and returns the frames kept from the last keyframe on (for
   * the reader to send first). The listener gets every frame after those.
   */
  attach(listener: RtpFrameListener): readonly RtpFrame[] {
    this.startSource();
    this.hub.subscribe(listener);
    return this.keptFrames;
  }

  private startSource(): void {
    if (this.stopSource) return;
    this.starting = true;
    try {
      this.stopSource = this.source.start((payloads, keyframe, ms) => this.publish(payloads, keyframe, ms));
    } finally {
      this.starting = false;
    }
  }

  /** The frames kept from the last keyframe on. */
  get keptFrames(): readonly RtpFrame[] {
    return [...this.hub.groupOfPictures];
  }

  /** Removes a reader; the last one stops the source and forgets the kept frames. Safe to call twice. */
  detach(listener: RtpFrameListener): void {
    if (!this.hub.unsubscribe(listener) || this.hub.subscriberCount > 0 || this.options.runAlways) return;
    this.stop();
  }

  /** Stops the source whoever is attached (the stream was removed). */
  stop(): void {
    this.hub.clearSubscribers();
    this.stopSource?.();
    this.stopSource = undefined;
    this.hub.reset();
    this.recent = [];
  }

  private publish(payloads: readonly RtpPayload[], keyframe: boolean, timestampMs: number): void {
    if (payloads.length === 0) return;
    const timestamp = this.rtpTimeOf(timestampMs);
    const first = this.sequence;
    const packets = payloads.map(({ payload, marker }) => {
      const packet = buildRtpPacket({ payloadType: this.source.payloadType, sequence: this.sequence, timestamp, ssrc: this.ssrc, marker }, payload);
      this.sequence = (this.sequence + 1) & 0xffff;
      return packet;
    });
    const frame = new RtpFrame(packets, keyframe, timestamp, first, timestampMs);
    this.last = { ms: timestampMs, at: Date.now() };
    const keep = this.options.recentFrames ?? 0;
    if (keep > 0) {
      this.recent.push(frame);
      if (this.recent.length > keep) this.recent.shift();
    }
    if (!this.starting) this.rate.add(frame.bytes, this.last.at);
    this.framesOut++;
    const readers = this.hub.subscriberCount;
    this.hub.publish(frame);
    // The last reader was removed for throwing: nobody reads, so the source stops as if it had left.
    if (readers > 0 && this.hub.subscriberCount === 0 && !this.options.runAlways) this.stop();
  }
}
