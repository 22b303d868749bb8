import { randomInt } from 'node:crypto';
import { RtpClock, RtpReorderer, type RtpPacket } from '../../media/rtp/rtp.ts';
import { SsrcPacing } from './ssrc-follow.ts';
import { createDepacketizer, type DepacketizedFrame, type PushCodec, type PushDepacketizer } from './codecs.ts';

/** Video RTP clock rate (RFC 3551). */
export const RTP_CLOCK_RATE = 90_000;

/**
 * An SSRC for start_stream to assign: non-zero and below 2^31, so that every sender can be told to use it (ffmpeg's
 * `-ssrc` is a signed int; GStreamer payloaders read 0xffffffff as "random"). 31 random bits are the stream's secret.
 */
export function assignSsrc(): number {
  return randomInt(1, 0x8000_0000);
}

/** What one packet gave: frames in order, packets found missing before it, and whether its payload was unreadable. */
export interface Received {
  readonly frames: DepacketizedFrame[];
  readonly lost: number;
  readonly malformed: number;
}

/**
 * The receive path of one RTP source (one SSRC): packets put in order, depacketized, and how regularly they come
 * (noted by the SsrcFollower that hands it its packets).
 */
export class SourceStream {
  readonly reorderer = new RtpReorderer();
  readonly depacketizer: PushDepacketizer;
  readonly clock = new RtpClock(RTP_CLOCK_RATE);
  readonly pacing = new SsrcPacing();
  packets = 0;
  bytes = 0;

  constructor(
    readonly ssrc: number,
    codec: PushCodec,
    maxFrameBytes: number,
  ) {
    this.depacketizer = createDepacketizer(codec, maxFrameBytes);
  }

  /** Takes one packet as it arrived; throws AdapterError('PROTOCOL') when a frame passes maxFrameBytes. */
  receive(packet: RtpPacket, size: number, nowMs: number): Received {
    this.packets++;
    this.bytes += size;
    const frames: DepacketizedFrame[] = [];
    let lost = 0;
    let malformed = 0;
    for (const item of this.reorderer.push(packet, nowMs)) {
      if ('lost' in item) {
        lost += item.lost;
        this.depacketizer.markLoss();
      } else if (!this.depacketizer.accepts(item.packet)) {
        malformed++;
        this.depacketizer.markLoss(); // the frame it belonged to cannot be rebuilt
      } else {
        frames.push(...this.depacketizer.push(item.packet));
      }
    }
    return { frames, lost, malformed };
  }
}
