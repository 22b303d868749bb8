import { performance } from 'node:perf_hooks';
import type { AudioTrack, FrameUnit } from '../types.ts';
import type { AudioDepacketizer, RtpAudioUnit } from './audio-depacketizer.ts';
import { ReceiverReporter } from './rtcp.ts';
import { parseRtpPacket, RtpReorderer, type RtpPacket } from './rtp.ts';
import type { TrackSync } from './track-sync.ts';

/** An audio frame on the picture's timeline. */
export type PlacedAudioUnit = FrameUnit & { readonly track: AudioTrack };

/** Counters of one received audio track. */
export interface AudioReceiverCounters {
  /** Packets taken (RTP of this track). */
  packets: number;
  /** Frames handed on, placed on the picture's timeline. */
  frames: number;
  /** Packets found missing by the reorderer. */
  lost: number;
  /** Packets that were not RTP, not of this track, or whose payload the depacketizer could not read. */
  refused: number;
}

/** What a received audio track needs: how to read and place its frames, which packets are its own, where units go. */
export interface AudioReceiverOptions {
  readonly depacketizer: AudioDepacketizer;
  /** Puts the frames on the picture's timeline; told of this track's sender reports. */
  readonly sync: TrackSync;
  /** Whether a packet belongs to this track (its payload type, its SSRC where one was assigned). */
  readonly accepts: (packet: RtpPacket) => boolean;
  readonly onUnit: (unit: PlacedAudioUnit) => void;
  /** The picture's timeline at an arrival, where sound that comes before the first picture may go by arrival. */
  readonly timelineAt?: (arrivalMs: number) => number;
  /** Looks over the frames before they go on (held while judging); a throw stops the sound. */
  readonly check?: (unit: RtpAudioUnit) => RtpAudioUnit[];
  /** The sound stopped because `check` refused it; the receiver takes no more packets. */
  readonly onStopped?: (error: Error) => void;
}

/**
 * One received audio track over RTP, for any source that sends a camera's sound beside its picture: packets parsed,
 * filtered, counted for receiver reports, put in order, depacketized, and their times put on the picture's timeline by
 * `sync` (sender reports of both tracks where they come, arrival times until then). A bad packet is dropped and counted;
 * sound never ends the picture's stream.
 */
export class RtpAudioReceiver {
  readonly counters: AudioReceiverCounters = { packets: 0, frames: 0, lost: 0, refused: 0 };
  readonly reporter: ReceiverReporter;
  private readonly reorderer: RtpReorderer;
  private stopped = false;

  constructor(private readonly options: AudioReceiverOptions) {
    this.reporter = new ReceiverReporter(options.depacketizer.track.clockRate);
    this.reorderer = RtpReorderer.counting(this.reporter.reception);
  }

  /** The track as its source describes it. */
  get track(): AudioTrack {
    return this.options.depacketizer.track;
  }

  /** Takes no more packets; safe to call twice. */
  stop(): void {
    this.stopped = true;
  }

  /** Takes one RTP packet as it arrived. */
  onRtp(data: Buffer): void {
    if (this.stopped) return;
    let packet: RtpPacket;
    try {
      packet = parseRtpPacket(data);
    } catch {
      this.counters.refused++; // one garbled datagram is not worth the sound
      return;
    }
    this.onPacket(packet);
  }

  /** Takes one RTP packet its source has parsed already. */
  onPacket(packet: RtpPacket): void {
    if (this.stopped) return;
    if (!this.options.accepts(packet)) {
      this.counters.refused++;
      return;
    }
    const now = performance.now();
    this.counters.packets++;
    if (this.options.timelineAt) this.options.sync.noteStart(this.options.timelineAt(now), now);
    for (const item of this.reorderer.push(packet, now)) {
      if ('lost' in item) {
        this.counters.lost += item.lost;
        this.options.depacketizer.markLoss();
      } else {
        this.depacketize(item.packet, now);
        if (this.stopped) return;
      }
    }
  }

  /** Takes one RTCP packet (with `ssrc`, only that sender's report counts). */
  onRtcp(data: Buffer, ssrc?: number): void {
    if (this.stopped) return;
    const report = this.reporter.onRtcp(data, performance.now(), ssrc);
    if (report) this.options.sync.noteOwnReport(report);
  }

  private depacketize(packet: RtpPacket, now: number): void {
    let frames: RtpAudioUnit[];
    try {
      frames = this.options.depacketizer.push(packet);
    } catch {
      this.counters.refused++; // a payload the depacketizer cannot read: one bad packet
      this.options.depacketizer.markLoss();
      return;
    }
    const check = this.options.check;
    if (check) {
      try {
        frames = frames.flatMap((frame) => check(frame));
      } catch (error) {
        this.stopped = true;
        this.options.onStopped?.(error as Error);
        return;
      }
    }
    for (const unit of frames) {
      const time = this.options.sync.place(unit.pts, unit.rtpTimestamp, now);
      if (time === undefined) continue; // no picture yet to place it against, or behind the sound already sent
      this.counters.frames++;
      this.options.onUnit({ track: unit.track, data: unit.data, keyframe: true, pts: time, dts: time - unit.pts + unit.dts });
    }
  }
}
