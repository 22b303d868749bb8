import { randomInt } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { buildRtxPacket } from '../../media/rtp/rtx.ts';
import { HISTORY_PACKETS } from './stream-packets.ts';

/** Retransmissions per viewer and second at most: a NACK flood costs the relay no more than about a stream's rate. */
export const MAX_RETRANSMISSIONS_PER_SECOND = 256;

/** The retransmission stream (RFC 4588) a viewer's offer negotiated: its payload type and the SSRC the relay chose. */
export interface RtxStream {
  readonly payloadType: number;
  readonly ssrc: number;
}

/** What answers one NACKed packet: an RTX packet ready to send, or (without RTX) the stream's packet to send again under its sequence. */
export type Retransmission = { readonly rtx: Buffer } | { readonly packet: Buffer; readonly resentAs: number };

/**
 * One viewer's answers to generic NACKs (RFC 4585) from the stream's shared history. Each viewer has its own sequence
 * numbers, so the viewer's number of each packet sent is mapped back to the stream's. With RTX negotiated the packet
 * goes out on the RTX stream (its own SSRC and sequence, the original number first in the payload), which a receiver
 * accepts even when it has already seen that number (SRTP's replay check); without, under its original number.
 */
export class NackResponder {
  nacks = 0;
  retransmitted = 0;
  /** NACKs left unanswered because the viewer passed MAX_RETRANSMISSIONS_PER_SECOND. */
  overBudget = 0;
  /** By this viewer's sequence number (modulo the history): that number * 0x10000 + the stream's. */
  private readonly sentAs: number[] = new Array<number>(HISTORY_PACKETS).fill(-1);
  private rtxSequence = randomInt(0, 0x10000);
  private windowStart = -Infinity;
  private inWindow = 0;

  constructor(
    private readonly history: { retransmission(streamSequence: number): Buffer | undefined },
    private readonly rtx: RtxStream | undefined,
  ) {}

  /** Notes that the stream's packet `streamSequence` went to this viewer as `viewerSequence`. */
  sent(viewerSequence: number, streamSequence: number): void {
    this.sentAs[viewerSequence % HISTORY_PACKETS] = viewerSequence * 0x10000 + streamSequence;
  }

  /** The retransmissions for the viewer sequence numbers a NACK reported lost, those still in the history and the budget. */
  answer(nacked: readonly number[]): Retransmission[] {
    const out: Retransmission[] = [];
    for (const sequence of nacked) {
      this.nacks++;
      const sent = this.sentAs[sequence % HISTORY_PACKETS]!;
      if (sent < 0 || Math.floor(sent / 0x10000) !== sequence) continue;
      const packet = this.history.retransmission(sent % 0x10000);
      if (!packet) continue;
      if (!this.withinBudget()) {
        this.overBudget++;
        continue;
      }
      this.retransmitted++;
      if (!this.rtx) {
        out.push({ packet, resentAs: sequence });
        continue;
      }
      const rtx = buildRtxPacket(packet, { ...this.rtx, sequence: this.rtxSequence, originalSequence: sequence });
      this.rtxSequence = (this.rtxSequence + 1) & 0xffff;
      out.push({ rtx });
    }
    return out;
  }

  private withinBudget(): boolean {
    const now = performance.now();
    if (now - this.windowStart >= 1000) {
      this.windowStart = now;
      this.inWindow = 0;
    }
    return ++this.inWindow <= MAX_RETRANSMISSIONS_PER_SECOND;
  }
}
