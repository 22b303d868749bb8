import { randomInt } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { withParameterSets } from '../../media/h264/params.ts';
import { packetizeH264 } from '../../media/rtp/h264-packetizer.ts';
import { buildRtpPacket } from '../../media/rtp/packet.ts';
import type { H264Unit, H264Source } from '../../media/types.ts';
import { KeptGroup } from '../core/hub.ts';

/** Packets kept for retransmission on NACK: about 4 s of a 2 Mbit/s stream. */
export const HISTORY_PACKETS = 1024;
const MAX_KEPT_FRAMES = 900;
const MAX_KEPT_BYTES = 16 * 1024 * 1024;
/** A kept group older than this (no frame since) is the past: a new viewer waits for the next keyframe instead. */
const STALE_GROUP_MS = 3000;
/** Written into packets until a viewer's own payload type replaces it. */
const PLACEHOLDER_PAYLOAD_TYPE = 96;
/** Keyframe requests (PLI/FIR) of a stream's viewers are answered this often at most, however many ask. */
export const KEYFRAME_ANSWER_INTERVAL_MS = 1000;

/** One viewer of a stream's packets: the WebRTC session, which sends them (payload type set) once its transport is open. */
export interface PacketSink {
  /** Sends packets of one frame; `keyframe` marks the packets of a frame a decoder can start at. */
  deliver(packets: readonly Buffer[], keyframe: boolean): void;
}

/**
 * A stream's H.264 as RTP, packetized once for all its WebRTC viewers (RFC 6184, packetization-mode 1): one SSRC, one
 * sequence and one clock per stream, so a viewer's packets differ only in the payload type its offer chose. Keeps the
 * current group of pictures (a viewer starts on its keyframe at once) and the last packets sent (answers NACKs from
 * one history for every viewer). Holds the encoder only while it has viewers.
 */
export class StreamPackets {
  readonly ssrc = randomInt(1, 0xffffffff);
  private sequence = randomInt(0, 0x10000);
  private readonly kept = new KeptGroup<readonly Buffer[]>(MAX_KEPT_FRAMES, MAX_KEPT_BYTES);
  private readonly history: (Buffer | undefined)[] = new Array(HISTORY_PACKETS);
  private readonly sinks = new Set<PacketSink>();
  private unsubscribe: (() => void) | undefined;
  private release: (() => void) | undefined;
  private lastFrameAt = -Infinity;
  private lastKeyframeAnswerAt = -Infinity;
  /** The camera time (ms) of the newest frame packetized: sessions pair it with the RTP time for sender reports. */
  newestPts = 0;
  /** Frames packetized and packets made, for /stat.json. */
  framesOut = 0;
  packetsOut = 0;

  constructor(
    private readonly video: H264Source,
    /** True while the camera is live: its encoder's kept group is the present, not the last picture before an outage. */
    private readonly cameraLive: () => boolean,
  ) {}

  get viewers(): number {
    return this.sinks.size;
  }

  /** The encoder's profile_idc once it has started (to choose among the offered formats). */
  get profile(): number | undefined {
    return this.video.track?.sps[1];
  }

  /** Adds a viewer; the first holds the encoder (an on-demand camera starts while ICE runs) and primes the kept group. */
  add(sink: PacketSink): void {
    this.sinks.add(sink);
    if (this.unsubscribe) return;
    this.release = this.video.acquire();
    for (const frame of this.video.groupOfPictures) this.packetize(frame);
    if (!this.cameraLive()) this.lastFrameAt = -Infinity;
    this.unsubscribe = this.video.subscribe((frame) => this.onFrame(frame));
  }

  /** The kept group's packets from its keyframe on, when they are recent enough to show as live; else []. */
  startPackets(): readonly (readonly Buffer[])[] {
    if (performance.now() - this.lastFrameAt > STALE_GROUP_MS) return [];
    return this.kept.frames;
  }

  /**
   * The kept group again, for a viewer that asked for a keyframe (the shared encoder is not asked: one viewer's loss
   * must not cost every other viewer a keyframe); [] when the stream answered one within the last second.
   */
  keyframeAgain(): readonly (readonly Buffer[])[] {
    const now = performance.now();
    if (now - this.lastKeyframeAnswerAt < KEYFRAME_ANSWER_INTERVAL_MS) return [];
    const group = this.startPackets();
    if (group.length > 0) this.lastKeyframeAnswerAt = now;
    return group;
  }

  remove(sink: PacketSink): void {
    if (!this.sinks.delete(sink) || this.sinks.size > 0) return;
    this.close();
  }

  /** A packet sent lately, by its sequence number, for a NACK; undefined when it has left the history. */
  retransmission(sequence: number): Buffer | undefined {
    const packet = this.history[sequence % HISTORY_PACKETS];
    return packet && packet.readUInt16BE(2) === sequence ? packet : undefined;
  }

  /** Lets go of the encoder and forgets the packets. Safe to call twice. */
  close(): void {
    this.sinks.clear();
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    this.release?.();
    this.release = undefined;
    this.kept.clear();
    this.history.fill(undefined);
  }

  private onFrame(frame: H264Unit): void {
    const packets = this.packetize(frame);
    for (const sink of this.sinks) sink.deliver(packets, frame.keyframe);
  }

  private packetize(frame: H264Unit): readonly Buffer[] {
    this.lastFrameAt = performance.now();
    this.newestPts = frame.pts;
    // Every keyframe carries SPS and PPS in band: the SDP answer names no parameter sets, and the encoder may restart.
    const nalus = withParameterSets(frame);
    const timestamp = Math.round(frame.pts * 90) >>> 0;
    const packets = packetizeH264(nalus).map(({ payload, marker }) => {
      const packet = buildRtpPacket({ payloadType: PLACEHOLDER_PAYLOAD_TYPE, sequence: this.sequence, timestamp, ssrc: this.ssrc, marker }, payload);
      this.history[this.sequence % HISTORY_PACKETS] = packet;
      this.sequence = (this.sequence + 1) & 0xffff;
      return packet;
    });
    this.kept.add(packets, frame.keyframe, packets.reduce((sum, packet) => sum + packet.length, 0));
    this.framesOut++;
    this.packetsOut += packets.length;
    return packets;
  }
}
