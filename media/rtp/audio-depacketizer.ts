import type { AudioTrack, FrameUnit } from '../types.ts';
import { RtpClock, type RtpPacket } from './rtp.ts';

/** One audio frame from RTP: a unit of its track, with its own RTP timestamp (for sender-report alignment). */
export interface RtpAudioUnit extends FrameUnit {
  readonly track: AudioTrack;
  readonly rtpTimestamp: number;
}

/**
 * What every audio depacketizer offers, so an RTSP or push source does not care which codec it reads: packets in
 * sequence order in, units out with times in ms from the first packet (RTP timestamps unwrapped, as for video).
 */
export interface AudioDepacketizer {
  readonly track: AudioTrack;
  push(packet: RtpPacket): RtpAudioUnit[];
  /** Packets went missing (the reorderer said so): a frame in progress is dropped. */
  markLoss(): void;
}

/** Turns frames with RTP timestamps into units on one unwrapped, never-decreasing millisecond timeline. */
export class AudioUnitClock {
  private readonly clock: RtpClock;

  constructor(readonly track: AudioTrack) {
    this.clock = new RtpClock(track.clockRate);
  }

  unit(data: Buffer, rtpTimestamp: number): RtpAudioUnit {
    const time = this.clock.toMs(rtpTimestamp >>> 0);
    return { track: this.track, data, pts: time, dts: time, keyframe: true, rtpTimestamp: rtpTimestamp >>> 0 };
  }
}

/**
 * G.711 and Opus carry one frame per packet (RFC 3551, RFC 7587): each non-empty payload is a unit at the packet's
 * timestamp. Payloads over `maxFrameBytes` are dropped and counted; nothing is held between packets.
 */
export class FramePerPacketDepacketizer implements AudioDepacketizer {
  private readonly clock: AudioUnitClock;
  /** Packets dropped as empty or oversized. */
  droppedPackets = 0;

  constructor(readonly track: AudioTrack, private readonly maxFrameBytes: number) {
    this.clock = new AudioUnitClock(track);
  }

  push(packet: RtpPacket): RtpAudioUnit[] {
    if (packet.payload.length === 0 || packet.payload.length > this.maxFrameBytes) {
      this.droppedPackets++;
      return [];
    }
    return [this.clock.unit(Buffer.from(packet.payload), packet.timestamp)];
  }

  markLoss(): void {}
}
