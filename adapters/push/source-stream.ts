import { randomInt } from 'node:crypto';
import { RtpClock, RtpReorderer, type RtpPacket } from '../../media/rtp/rtp.ts';
import { createDepacketizer, type DepacketizedFrame, type PushCodec, type PushDepacketizer } from './codecs.ts';

/** Video RTP clock rate (RFC 3551). */
export const RTP_CLOCK_RATE = 90_000;
/** FollowSSRC takes a new SSRC only after the current one has been silent at least this long (and twice its longest gap). */
export const MIN_RESTART_SILENCE_MS = 500;
/** A new SSRC on trial that has not given a decodable keyframe within this long may be replaced by another. */
const TRIAL_MS = 2000;

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
 * The receive path of one RTP source (one SSRC): packets put in order, depacketized, and how regularly they come,
 * which tells a sender's restart from packets slipped in between its own.
 */
export class SourceStream {
  readonly reorderer = new RtpReorderer();
  readonly depacketizer: PushDepacketizer;
  readonly clock = new RtpClock(RTP_CLOCK_RATE);
  packets = 0;
  bytes = 0;
  /** performance.now() of the first and the last packet. */
  firstAt: number | undefined;
  lastAt: number | undefined;
  /** The longest wait between two of its packets. */
  longestGapMs = 0;

  constructor(
    readonly ssrc: number,
    codec: PushCodec,
    maxFrameBytes: number,
  ) {
    this.depacketizer = createDepacketizer(codec, maxFrameBytes);
  }

  /** Takes one packet as it arrived; throws AdapterError('PROTOCOL') when a frame passes maxFrameBytes. */
  receive(packet: RtpPacket, size: number, nowMs: number): Received {
    if (this.lastAt !== undefined) this.longestGapMs = Math.max(this.longestGapMs, nowMs - this.lastAt);
    this.firstAt ??= nowMs;
    this.lastAt = nowMs;
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

  /**
   * Whether this source has fallen silent as a restarted sender does: it sent, then nothing for at least
   * MIN_RESTART_SILENCE_MS and twice the longest gap it ever had (a slow publisher's pause between frames is no restart).
   */
  silentForRestart(nowMs: number): boolean {
    if (this.lastAt === undefined) return false;
    return nowMs - this.lastAt >= Math.max(MIN_RESTART_SILENCE_MS, 2 * this.longestGapMs);
  }

  /** Whether a source on trial has had its time to give a keyframe, so another may take its place. */
  trialOver(nowMs: number): boolean {
    return this.firstAt !== undefined && nowMs - this.firstAt > TRIAL_MS;
  }
}
